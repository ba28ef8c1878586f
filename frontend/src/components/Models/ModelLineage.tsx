import { Link } from "react-router";
import type { ModelVersion } from "../../client/types";
import styles from "./Models.module.css";
import { SnapshotLink } from "./SnapshotLink";

/** Where a version comes from: its parent (→ it), the snapshot it was trained on and the job that made it. */
export function ModelLineage({ model, parent }: { model: ModelVersion; parent: ModelVersion | null }) {
  const nothing = !model.parent_id && !model.snapshot_id && !model.job_id;
  if (nothing) return <span className="muted">–</span>;
  return (
    <div className={styles.lineage}>
      {model.parent_id ? (
        <span>
          {parent ? parent.name : `#${model.parent_id}`}
          <span className={styles.arrow} aria-hidden="true">
            →
          </span>
          <span className="visually-hidden"> to </span>
          {model.name}
        </span>
      ) : null}
      {model.snapshot_id ? (
        <span>
          <span className="muted">data: </span>
          <SnapshotLink snapshotId={model.snapshot_id} />
        </span>
      ) : null}
      {model.job_id ? (
        <span>
          <span className="muted">made by </span>
          <Link to={`/jobs/${model.job_id}`}>job #{model.job_id}</Link>
        </span>
      ) : null}
    </div>
  );
}
