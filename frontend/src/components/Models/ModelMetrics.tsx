import { Link } from "react-router";
import type { ModelVersion } from "../../client/types";
import { keyMetrics } from "../../models/metrics";
import styles from "./Models.module.css";

/** The version's key metrics as a small list; the evaluation job they come from is linked once. */
export function ModelMetrics({ model }: { model: ModelVersion }) {
  const metrics = keyMetrics(model);
  if (!metrics.length) return <span className="muted">–</span>;
  const jobId = metrics.find((m) => m.jobId !== undefined)?.jobId;
  return (
    <div>
      <dl className={styles.metrics}>
        {metrics.map((m) => (
          <div key={m.label} style={{ display: "contents" }}>
            <dt>{m.label}</dt>
            <dd>{m.value}</dd>
          </div>
        ))}
      </dl>
      {jobId !== undefined ? (
        <Link to={`/jobs/${jobId}`} className="small">
          evaluation job #{jobId}
        </Link>
      ) : null}
    </div>
  );
}
