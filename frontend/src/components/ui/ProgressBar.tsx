import styles from "./ui.module.css";

interface ProgressBarProps {
  value: number;
  label: string;
  showText?: boolean;
}

/** A thin bar for a 0..1 share (a native <progress>, so assistive tech reads the value). */
export function ProgressBar({ value, label, showText = false }: ProgressBarProps) {
  const pct = Math.round(Math.max(0, Math.min(1, value)) * 100);
  return (
    <div className={styles.progressWrap}>
      <progress className={styles.progress} max={100} value={pct} aria-label={label}>
        {pct}%
      </progress>
      {showText ? <span className={styles.progressText}>{pct}%</span> : null}
    </div>
  );
}
