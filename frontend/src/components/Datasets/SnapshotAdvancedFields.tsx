import type { Criterion } from "../../client/types";
import { EXCLUDABLE_FLAGS, type SnapshotFormValues } from "../../datasets/spec";
import styles from "./Datasets.module.css";

interface SnapshotAdvancedFieldsProps {
  values: SnapshotFormValues;
  onChange: (patch: Partial<SnapshotFormValues>) => void;
  criteria: Criterion[];
}

/** The less used parts of a snapshot spec, collapsed: time window, flags, rating and rewrite pairs. */
export function SnapshotAdvancedFields({ values: v, onChange: set, criteria }: SnapshotAdvancedFieldsProps) {
  const toggleFlag = (flag: string, on: boolean) =>
    set({ excludeFlags: on ? [...v.excludeFlags.filter((f) => f !== flag), flag] : v.excludeFlags.filter((f) => f !== flag) });
  return (
    <details className={styles.advanced}>
      <summary>Advanced</summary>
      <div className={styles.grid}>
        <div className="field">
          <label htmlFor="snapshot-since">Labels from (your time)</label>
          <input id="snapshot-since" type="datetime-local" value={v.since} onChange={(e) => set({ since: e.target.value })} />
        </div>
        <div className="field">
          <label htmlFor="snapshot-until">Labels before (your time)</label>
          <input id="snapshot-until" type="datetime-local" value={v.until} onChange={(e) => set({ until: e.target.value })} />
        </div>
        {criteria.length ? (
          <div className="field">
            <label htmlFor="snapshot-rating-criterion">Rating criterion</label>
            <select id="snapshot-rating-criterion" value={v.ratingCriterion} onChange={(e) => set({ ratingCriterion: e.target.value })}>
              <option value="">Weighted overall score</option>
              {criteria.map((c) => (
                <option key={c.name} value={c.name}>
                  {c.name}
                </option>
              ))}
            </select>
          </div>
        ) : null}
        <div className="field">
          <label htmlFor="snapshot-rating-diff">Minimum rating difference</label>
          <input
            id="snapshot-rating-diff"
            type="number"
            min={0.01}
            max={1}
            step={0.05}
            value={v.ratingMinDifference}
            onChange={(e) => set({ ratingMinDifference: e.target.value })}
          />
          <p className="help">Scaled 0–1; 0.25 = one point of 1–5.</p>
        </div>
        <div className="field">
          <label htmlFor="snapshot-rewrite-margin">Rewrite margin</label>
          <input
            id="snapshot-rewrite-margin"
            type="number"
            min={0}
            max={100}
            step={0.5}
            value={v.rewriteMargin}
            onChange={(e) => set({ rewriteMargin: e.target.value })}
          />
          <p className="help">Margin of a (rewrite ≻ original) pair.</p>
        </div>
      </div>
      <fieldset className={styles.group}>
        <legend>Leave out items flagged as</legend>
        <div className={styles.checks}>
          {EXCLUDABLE_FLAGS.map((f) => (
            <label key={f.value} className="checkbox">
              <input type="checkbox" checked={v.excludeFlags.includes(f.value)} onChange={(e) => toggleFlag(f.value, e.target.checked)} />
              {f.label}
            </label>
          ))}
        </div>
      </fieldset>
    </details>
  );
}
