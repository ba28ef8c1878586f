import type { AgreementMetric } from "../../client/types";
import { formatNumber } from "../../lib/format";
import { formatMetric, metricLabel } from "../../quality/format";
import styles from "./Quality.module.css";

/** One card per agreement coefficient: its name, its value (3 decimals or n/a) and what it was computed on. */
export function MetricCards({ metrics }: { metrics: AgreementMetric[] }) {
  if (metrics.length === 0) return <p className="muted">No agreement metrics for this task yet.</p>;
  return (
    <ul className={styles.metricGrid} aria-label="Agreement metrics">
      {metrics.map((m) => {
        const value = formatMetric(m.value);
        return (
          <li key={`${m.name}-${m.criterion ?? ""}`} className={styles.metricCard} data-testid="metric-card">
            <h3 className={styles.metricName}>{metricLabel(m)}</h3>
            <p className={`${styles.metricValue} ${m.value == null ? styles.metricValueNa : ""}`}>{value}</p>
            <p className={styles.metricN}>n = {formatNumber(m.n)}</p>
          </li>
        );
      })}
    </ul>
  );
}
