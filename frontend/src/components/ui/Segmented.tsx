import styles from "./ui.module.css";

export interface SegmentOption<T extends string | number> {
  value: T;
  label: string;
  hint?: string;
}

interface SegmentedProps<T extends string | number> {
  name: string;
  legend: string;
  options: SegmentOption<T>[];
  value: T | null;
  onChange: (value: T) => void;
  disabled?: boolean;
  hideLegend?: boolean;
  size?: "md" | "lg";
  description?: string;
}

/** A radio group that looks like a row of buttons (native radios: arrow keys and labels work). */
export function Segmented<T extends string | number>({
  name,
  legend,
  options,
  value,
  onChange,
  disabled = false,
  hideLegend = false,
  size = "md",
  description,
}: SegmentedProps<T>) {
  const descriptionId = description ? `${name}-description` : undefined;
  return (
    <fieldset
      className={`${styles.segmented} ${size === "lg" ? styles.segmentedLg : ""}`}
      disabled={disabled}
      aria-describedby={descriptionId}
    >
      <legend className={hideLegend ? "visually-hidden" : styles.segmentedLegend}>{legend}</legend>
      {description ? (
        <p id={descriptionId} className={styles.segmentedDescription}>
          {description}
        </p>
      ) : null}
      <div className={styles.segmentRow}>
        {options.map((opt) => (
          <label key={String(opt.value)} className={styles.segment}>
            <input
              type="radio"
              name={name}
              value={String(opt.value)}
              checked={value === opt.value}
              onChange={() => onChange(opt.value)}
            />
            <span className={styles.segmentFace}>
              {opt.label}
              {opt.hint ? (
                <kbd className={styles.segmentKey} aria-hidden="true">
                  {opt.hint}
                </kbd>
              ) : null}
            </span>
          </label>
        ))}
      </div>
    </fieldset>
  );
}
