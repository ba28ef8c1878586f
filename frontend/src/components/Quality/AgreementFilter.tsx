import styles from "./Quality.module.css";

interface AgreementFilterProps {
  maxAgreement: number;
  onMaxAgreement: (value: number) => void;
  includeAdjudicated: boolean;
  onIncludeAdjudicated: (value: boolean) => void;
}

function clamp01(value: number): number {
  return Math.min(1, Math.max(0, value));
}

/** Which items the review queue lists: agreement below a threshold (slider or number), decided ones or not. */
export function AgreementFilter({ maxAgreement, onMaxAgreement, includeAdjudicated, onIncludeAdjudicated }: AgreementFilterProps) {
  return (
    <fieldset className={styles.filter} style={{ border: 0, margin: 0, padding: 0 }}>
      <legend className="visually-hidden">Filter the review queue</legend>
      <div className="field">
        <label htmlFor="max-agreement">Agreement below</label>
        <div className={styles.sliderRow}>
          <input
            id="max-agreement"
            type="range"
            min={0}
            max={1}
            step={0.05}
            value={maxAgreement}
            onChange={(e) => onMaxAgreement(clamp01(Number(e.target.value)))}
          />
          <input
            type="number"
            aria-label="Agreement below (number)"
            min={0}
            max={1}
            step={0.05}
            value={maxAgreement}
            onChange={(e) => {
              const n = Number(e.target.value);
              if (e.target.value !== "" && Number.isFinite(n)) onMaxAgreement(clamp01(n));
            }}
          />
        </div>
        <p className="help">0 = the annotators disagree completely, 1 = they all agree.</p>
      </div>
      <label className="checkbox">
        <input type="checkbox" checked={includeAdjudicated} onChange={(e) => onIncludeAdjudicated(e.target.checked)} />
        Show decided items too
      </label>
    </fieldset>
  );
}
