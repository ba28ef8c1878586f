import type { Job } from "../../client/types";
import { formatClock, formatNumber } from "../../lib/format";
import { ProgressBar } from "../ui/ProgressBar";
import styles from "./Jobs.module.css";

/** Done / total with a bar and the ETA while it runs. */
export function JobProgress({ job }: { job: Job }) {
  const total = job.progress_total ?? null;
  const fraction = total ? job.progress_done / total : job.state === "succeeded" ? 1 : 0;
  return (
    <div className={styles.progress}>
      <ProgressBar value={fraction} label={`Job ${job.id} progress`} />
      <span className={styles.progressText}>
        {formatNumber(job.progress_done)}
        {total !== null ? ` / ${formatNumber(total)}` : ""}
        {job.state === "running" && job.eta_seconds != null ? ` · ${formatClock(job.eta_seconds)} left` : ""}
        {job.progress_note ? ` · ${job.progress_note}` : ""}
      </span>
    </div>
  );
}
