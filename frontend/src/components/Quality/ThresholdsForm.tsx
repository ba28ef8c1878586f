import { useState, type FormEvent } from "react";
import {
  applyThresholdDraft,
  DEFAULT_THRESHOLDS,
  THRESHOLD_FIELDS,
  thresholdDraft,
  type FlagThresholds,
} from "../../quality/thresholds";
import styles from "./Quality.module.css";

/** Collapsed by default: change when an annotator is flagged; applied on "Apply". */
export function ThresholdsForm({ value, onApply }: { value: FlagThresholds; onApply: (t: FlagThresholds) => void }) {
  const [draft, setDraft] = useState(() => thresholdDraft(value));
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    onApply(applyThresholdDraft(value, draft));
  };
  return (
    <details className={styles.thresholds}>
      <summary>Flag thresholds</summary>
      <form onSubmit={onSubmit} aria-label="Flag thresholds">
        <div className={styles.thresholdGrid}>
          {THRESHOLD_FIELDS.map((f) => (
            <div className="field" key={f.key}>
              <label htmlFor={`threshold-${f.key}`}>{f.label}</label>
              <input
                id={`threshold-${f.key}`}
                type="number"
                step={f.step}
                min={f.min}
                max={f.max}
                value={draft[f.key]}
                onChange={(e) => setDraft({ ...draft, [f.key]: e.target.value })}
              />
            </div>
          ))}
        </div>
        <div className={styles.formActions}>
          <button type="submit" className="btn">
            Apply
          </button>
          <button
            type="button"
            className="btn btn-quiet"
            onClick={() => {
              setDraft(thresholdDraft(DEFAULT_THRESHOLDS));
              onApply(DEFAULT_THRESHOLDS);
            }}
          >
            Reset to defaults
          </button>
        </div>
      </form>
    </details>
  );
}
