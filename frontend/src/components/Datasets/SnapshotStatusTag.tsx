import type { SnapshotStatus } from "../../client/types";
import styles from "./Datasets.module.css";

/** building / ready / failed as a small coloured tag (the word is always there). */
export function SnapshotStatusTag({ status }: { status: SnapshotStatus }) {
  return (
    <span className={`${styles.status} ${styles[`status_${status}`] ?? ""}`} data-testid="snapshot-status">
      {status}
    </span>
  );
}
