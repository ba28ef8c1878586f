import { Link } from "react-router";
import type { Snapshot } from "../../client/types";
import { formatDateTime } from "../../lib/format";
import { ContentHash } from "./ContentHash";
import styles from "./Datasets.module.css";
import { SnapshotCounts } from "./SnapshotCounts";
import { SnapshotDownloads } from "./SnapshotDownloads";
import { SnapshotStatusTag } from "./SnapshotStatusTag";

/** One snapshot: status (with its build job), when, rows per table and split, hash and downloads. */
export function SnapshotCard({ snapshot }: { snapshot: Snapshot }) {
  const headingId = `snapshot-${snapshot.id}-name`;
  return (
    <li className="card" aria-labelledby={headingId} data-snapshot-id={snapshot.id}>
      <header className={styles.snapshotHeader}>
        <h3 id={headingId}>{snapshot.name}</h3>
        <SnapshotStatusTag status={snapshot.status} />
        <span className="muted small">
          #{snapshot.id} · created {formatDateTime(snapshot.created_at)}
          {snapshot.finished_at ? ` · finished ${formatDateTime(snapshot.finished_at)}` : ""}
        </span>
      </header>
      <dl className={styles.facts}>
        {snapshot.job_id ? (
          <div>
            <dt>Build job</dt>
            <dd>
              <Link to={`/jobs/${snapshot.job_id}`}>job #{snapshot.job_id}</Link>
              {snapshot.status === "building" ? <span className="muted small">building…</span> : null}
            </dd>
          </div>
        ) : null}
        {snapshot.content_hash ? (
          <div>
            <dt>Content hash</dt>
            <dd>
              <ContentHash hash={snapshot.content_hash} />
            </dd>
          </div>
        ) : null}
      </dl>
      {snapshot.status === "failed" ? (
        <p className="error-box">
          <strong>Build failed: </strong>
          {snapshot.error ?? "see the job’s log."}
        </p>
      ) : null}
      {snapshot.status === "ready" ? (
        <>
          <SnapshotCounts counts={snapshot.counts} name={snapshot.name} />
          <p className={styles.trainLinks}>
            <Link to={`/projects/${snapshot.project_id}/jobs/new?kind=reward_model&snapshot_id=${snapshot.id}`}>
              Train a reward model on it
            </Link>
            <Link to={`/projects/${snapshot.project_id}/jobs/new?kind=dpo&snapshot_id=${snapshot.id}`}>Fine-tune with DPO</Link>
          </p>
          <SnapshotDownloads snapshotId={snapshot.id} />
        </>
      ) : null}
    </li>
  );
}
