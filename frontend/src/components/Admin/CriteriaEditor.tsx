import type { Criterion } from "../../client/types";
import styles from "./Admin.module.css";

/** A criterion being edited: numbers and labels kept as typed until the form is saved. */
export interface CriterionDraft {
  key: number;
  name: string;
  description: string;
  min: string;
  max: string;
  labels: string;
  weight: string;
}

let nextKey = 1;

export function criterionDraft(c?: Criterion): CriterionDraft {
  return {
    key: nextKey++,
    name: c?.name ?? "",
    description: c?.description ?? "",
    min: String(c?.min ?? 1),
    max: String(c?.max ?? 5),
    labels: c?.labels?.join(", ") ?? "",
    weight: String(c?.weight ?? 1),
  };
}

/** Back to the API's shape (the server validates scales, names and label counts). */
export function toCriterion(d: CriterionDraft): Criterion {
  const labels = d.labels
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  return {
    name: d.name.trim(),
    description: d.description.trim(),
    min: Number(d.min),
    max: Number(d.max),
    labels: labels.length ? labels : null,
    weight: Number(d.weight),
  };
}

interface CriteriaEditorProps {
  value: CriterionDraft[];
  onChange: (value: CriterionDraft[]) => void;
}

/** Edit a rating rubric: one row per criterion (name, scale, point names, description, weight). */
export function CriteriaEditor({ value, onChange }: CriteriaEditorProps) {
  const set = (key: number, patch: Partial<CriterionDraft>) =>
    onChange(value.map((c) => (c.key === key ? { ...c, ...patch } : c)));
  const move = (i: number, by: number) => {
    const next = [...value];
    const [row] = next.splice(i, 1);
    next.splice(i + by, 0, row!);
    onChange(next);
  };
  return (
    <fieldset className={styles.criteria}>
      <legend>Rubric criteria</legend>
      <p className="help">Each criterion is scored on a whole-number scale. Names: letters, digits, “_”, “-”, “.”.</p>
      {value.map((c, i) => {
        const id = `crit-${c.key}`;
        return (
          <div key={c.key} className={styles.criterionRow} role="group" aria-label={`Criterion ${i + 1}`}>
            <div className={styles.criterionGrid}>
              <div className="field">
                <label htmlFor={`${id}-name`}>Name</label>
                <input id={`${id}-name`} value={c.name} onChange={(e) => set(c.key, { name: e.target.value })} />
              </div>
              <div className="field">
                <label htmlFor={`${id}-min`}>Min</label>
                <input id={`${id}-min`} type="number" value={c.min} onChange={(e) => set(c.key, { min: e.target.value })} />
              </div>
              <div className="field">
                <label htmlFor={`${id}-max`}>Max</label>
                <input id={`${id}-max`} type="number" value={c.max} onChange={(e) => set(c.key, { max: e.target.value })} />
              </div>
              <div className="field">
                <label htmlFor={`${id}-weight`}>Weight</label>
                <input
                  id={`${id}-weight`}
                  type="number"
                  step="0.1"
                  min="0"
                  value={c.weight}
                  onChange={(e) => set(c.key, { weight: e.target.value })}
                />
              </div>
            </div>
            <div className="field">
              <label htmlFor={`${id}-desc`}>Description (shown to annotators)</label>
              <input id={`${id}-desc`} value={c.description} onChange={(e) => set(c.key, { description: e.target.value })} />
            </div>
            <div className="field">
              <label htmlFor={`${id}-labels`}>Point names, low to high (optional, comma-separated)</label>
              <input
                id={`${id}-labels`}
                value={c.labels}
                placeholder="e.g. poor, weak, fair, good, excellent"
                onChange={(e) => set(c.key, { labels: e.target.value })}
              />
            </div>
            <div className={styles.rowActions}>
              <button type="button" className="btn btn-quiet" onClick={() => move(i, -1)} disabled={i === 0}>
                Move up
              </button>
              <button type="button" className="btn btn-quiet" onClick={() => move(i, 1)} disabled={i === value.length - 1}>
                Move down
              </button>
              <button
                type="button"
                className="btn btn-quiet btn-danger-text"
                onClick={() => onChange(value.filter((x) => x.key !== c.key))}
                disabled={value.length === 1}
              >
                Remove
              </button>
            </div>
          </div>
        );
      })}
      <button type="button" className="btn" onClick={() => onChange([...value, criterionDraft({ name: "", description: "", min: 1, max: 5, labels: null, weight: 1 })])}>
        Add a criterion
      </button>
    </fieldset>
  );
}
