import styles from "./Admin.module.css";

export interface Stat {
  label: string;
  value: string;
  hint?: string;
}

/** A row of key numbers. */
export function StatGrid({ stats, label }: { stats: Stat[]; label: string }) {
  return (
    <dl className={styles.statGrid} aria-label={label}>
      {stats.map((s) => (
        <div key={s.label} className={styles.statCell}>
          <dt>{s.label}</dt>
          <dd>{s.value}</dd>
          {s.hint ? <p className={styles.statHint}>{s.hint}</p> : null}
        </div>
      ))}
    </dl>
  );
}
