import { useState, type FormEvent } from "react";
import { errorMessage } from "../../client/errors";
import type { Aggregation, Criterion, PairSource, SnapshotCreate, TiePolicy } from "../../client/types";
import { ALL_SOURCES, defaultSnapshotForm, toSnapshotCreate, type SnapshotFormValues } from "../../datasets/spec";
import styles from "./Datasets.module.css";
import { SnapshotAdvancedFields } from "./SnapshotAdvancedFields";

const AGGREGATIONS: { value: Aggregation; label: string; help: string }[] = [
  { value: "majority", label: "Majority", help: "Majority vote, mean rank or mean score; everyone counts the same." },
  { value: "weighted", label: "Weighted", help: "As majority, with each annotator weighted by reliability." },
  { value: "none", label: "None", help: "Every annotator’s judgement makes its own pair." },
];

const TIES: { value: TiePolicy; label: string; help: string }[] = [
  { value: "drop", label: "Drop", help: "A tie is no preference: it makes no pair." },
  { value: "keep", label: "Keep", help: "Ties stay as rows with margin 0 (exports add them only when asked)." },
];

interface SnapshotFormProps {
  criteria: Criterion[];
  onCreate: (body: SnapshotCreate) => Promise<void>;
}

/** Freeze the labels into a dataset: which labels, how they combine, how prompts are split. */
export function SnapshotForm({ criteria, onCreate }: SnapshotFormProps) {
  const [v, setV] = useState<SnapshotFormValues>(() => defaultSnapshotForm());
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (patch: Partial<SnapshotFormValues>) => setV((old) => ({ ...old, ...patch }));
  const splitSum = Number(v.train) + Number(v.validation) + Number(v.test);

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    const built = toSnapshotCreate(v);
    if (!built.ok) {
      setProblem(built.problem);
      return;
    }
    setProblem(null);
    setBusy(true);
    try {
      await onCreate(built.body);
    } catch (err) {
      setProblem(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  const toggleSource = (source: PairSource, on: boolean) =>
    set({ sources: on ? ALL_SOURCES.map((s) => s.value).filter((s) => s === source || v.sources.includes(s)) : v.sources.filter((s) => s !== source) });

  return (
    <form className={styles.form} onSubmit={onSubmit} aria-label="New snapshot" noValidate>
      <div className={styles.grid}>
        <div className="field" style={{ gridColumn: "span 2" }}>
          <label htmlFor="snapshot-name">Name</label>
          <input id="snapshot-name" required maxLength={200} value={v.name} onChange={(e) => set({ name: e.target.value })} />
        </div>
        <div className="field">
          <label htmlFor="snapshot-aggregation">Aggregation</label>
          <select
            id="snapshot-aggregation"
            value={v.aggregation}
            onChange={(e) => set({ aggregation: e.target.value as Aggregation })}
            aria-describedby="snapshot-aggregation-help"
          >
            {AGGREGATIONS.map((a) => (
              <option key={a.value} value={a.value}>
                {a.label}
              </option>
            ))}
          </select>
          <p className={`help ${styles.optionHelp}`} id="snapshot-aggregation-help">
            {AGGREGATIONS.find((a) => a.value === v.aggregation)?.help}
          </p>
        </div>
        <div className="field">
          <label htmlFor="snapshot-ties">Ties</label>
          <select
            id="snapshot-ties"
            value={v.ties}
            onChange={(e) => set({ ties: e.target.value as TiePolicy })}
            aria-describedby="snapshot-ties-help"
          >
            {TIES.map((t) => (
              <option key={t.value} value={t.value}>
                {t.label}
              </option>
            ))}
          </select>
          <p className={`help ${styles.optionHelp}`} id="snapshot-ties-help">
            {TIES.find((t) => t.value === v.ties)?.help}
          </p>
        </div>
        <div className="field">
          <label htmlFor="snapshot-min-agreement">Minimum agreement</label>
          <input
            id="snapshot-min-agreement"
            type="number"
            min={0}
            max={1}
            step={0.05}
            placeholder="none"
            value={v.minAgreement}
            onChange={(e) => set({ minAgreement: e.target.value })}
            aria-describedby="snapshot-min-agreement-help"
          />
          <p className="help" id="snapshot-min-agreement-help">
            0–1; items agreeing less are left out.
          </p>
        </div>
        <div className="field">
          <label htmlFor="snapshot-min-annotators">Minimum annotators</label>
          <input
            id="snapshot-min-annotators"
            type="number"
            min={1}
            max={50}
            step={1}
            value={v.minAnnotators}
            onChange={(e) => set({ minAnnotators: e.target.value })}
          />
        </div>
        <div className="field">
          <label htmlFor="snapshot-seed">Seed</label>
          <input id="snapshot-seed" type="number" min={0} step={1} value={v.seed} onChange={(e) => set({ seed: e.target.value })} />
          <p className="help">Same seed, same split.</p>
        </div>
      </div>

      <fieldset className={styles.group}>
        <legend>Split (%)</legend>
        <div className={styles.splitRow}>
          {(["train", "validation", "test"] as const).map((split) => (
            <div className="field" key={split}>
              <label htmlFor={`snapshot-split-${split}`}>{split[0]!.toUpperCase() + split.slice(1)}</label>
              <input
                id={`snapshot-split-${split}`}
                type="number"
                min={0}
                max={100}
                step={1}
                value={v[split]}
                onChange={(e) => set({ [split]: e.target.value })}
              />
            </div>
          ))}
        </div>
        <p className={`help ${Math.abs(splitSum - 100) > 1e-6 ? "error-text" : ""}`}>
          Sum: {Number.isFinite(splitSum) ? `${Math.round(splitSum * 100) / 100}%` : "–"} (must be 100%). Split by prompt,
          so no prompt is in two splits.
        </p>
        <label className="checkbox">
          <input type="checkbox" checked={v.usePromptSplit} onChange={(e) => set({ usePromptSplit: e.target.checked })} />
          Keep the split a prompt was imported with
        </label>
      </fieldset>

      <fieldset className={styles.group}>
        <legend>Make pairs from</legend>
        <div className={styles.checks}>
          {ALL_SOURCES.map((s) => (
            <label key={s.value} className="checkbox">
              <input type="checkbox" checked={v.sources.includes(s.value)} onChange={(e) => toggleSource(s.value, e.target.checked)} />
              {s.label}
            </label>
          ))}
        </div>
      </fieldset>

      <fieldset className={styles.group}>
        <legend>Labels</legend>
        <div className={styles.checks}>
          <label className="checkbox">
            <input type="checkbox" checked={v.excludePaused} onChange={(e) => set({ excludePaused: e.target.checked })} />
            Leave out paused annotators’ labels
          </label>
          <label className="checkbox">
            <input type="checkbox" checked={v.includeGold} onChange={(e) => set({ includeGold: e.target.checked })} />
            Add pairs from gold answers
          </label>
        </div>
      </fieldset>

      <SnapshotAdvancedFields values={v} onChange={set} criteria={criteria} />

      <div className={styles.actions}>
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? "Creating…" : "Create snapshot"}
        </button>
      </div>
      <div className="live-region" aria-live="polite">
        {problem ? (
          <p role="alert" className="error-box">
            {problem}
          </p>
        ) : null}
      </div>
    </form>
  );
}
