import { Link } from "react-router";
import type { LeaseClock } from "../../annotation/useLease";
import type { AnnotatorProgress, Project } from "../../client/types";
import { formatNumber } from "../../lib/format";
import styles from "./Annotation.module.css";
import { LeaseTimer } from "./LeaseTimer";

export const KIND_NAMES: Record<Project["task_kind"], string> = {
  pairwise: "Compare two responses",
  ranking: "Rank responses",
  rating: "Rate a response",
};

interface TaskHeaderProps {
  project: Project;
  progress: AnnotatorProgress | undefined;
  lease: LeaseClock | null;
  itemId: number | null;
  onGuidelines: () => void;
  onShortcuts: () => void;
}

/** The labeling screen's top bar: where I am, my labels, my counts today, the lease clock, help. */
export function TaskHeader({ project, progress, lease, itemId, onGuidelines, onShortcuts }: TaskHeaderProps) {
  return (
    <div className={styles.taskHeader}>
      <div className={styles.taskTitle}>
        <Link to="/" className={styles.back}>
          ← Projects
        </Link>
        <h1>{project.name}</h1>
        <span className={styles.kind}>{KIND_NAMES[project.task_kind]}</span>
      </div>
      <div className={styles.taskStats}>
        <span className={styles.stat}>
          <span className={styles.statLabel}>Today</span>
          <span className={styles.statValue} data-testid="count-today">
            {progress ? formatNumber(progress.labels_today) : "–"}
          </span>
        </span>
        <span className={styles.stat}>
          <span className={styles.statLabel}>All time</span>
          <span className={styles.statValue}>{progress ? formatNumber(progress.labels) : "–"}</span>
        </span>
        {lease ? <LeaseTimer lease={lease} /> : null}
        {itemId !== null ? (
          <span className={`${styles.stat} ${styles.statQuiet}`}>
            <span className={styles.statLabel}>Item</span>
            <span className={styles.statValue} data-testid="item-id">
              #{itemId}
            </span>
          </span>
        ) : null}
        <Link to={`/projects/${project.id}/labels`} className="btn btn-quiet">
          My labels
        </Link>
        <button type="button" className="btn btn-quiet" onClick={onGuidelines}>
          Guidelines <kbd>g</kbd>
        </button>
        <button type="button" className="btn btn-quiet" onClick={onShortcuts} aria-label="Keyboard shortcuts">
          Keys <kbd>?</kbd>
        </button>
      </div>
    </div>
  );
}
