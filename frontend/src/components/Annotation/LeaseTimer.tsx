import type { LeaseClock } from "../../annotation/useLease";
import { formatClock } from "../../lib/format";
import styles from "./Annotation.module.css";

/**
 * How long this item stays reserved for me (the lease), counting down, with the button that extends it.
 * Fixed widths and a button that is always there (disabled once expired): nothing around it moves.
 */
export function LeaseTimer({ lease }: { lease: LeaseClock }) {
  const { expired, low } = lease;
  return (
    <span className={styles.leaseGroup}>
      <span
        className={`${styles.stat} ${styles.leaseStat} ${low ? styles.statWarn : ""} ${expired ? styles.statDanger : ""}`}
        title={expired ? "The reservation ran out: your label is still accepted if the item needs one" : "Time left on this item"}
      >
        <span className={styles.statLabel}>Time left</span>
        <span className={styles.statValue} role="timer" aria-live="off" data-testid="time-left">
          {expired ? "expired" : formatClock(lease.secondsLeft)}
        </span>
      </span>
      <button
        type="button"
        className="btn btn-quiet"
        onClick={lease.extend}
        // Not disabled while busy: a focused button that disables itself drops focus to the page, where Enter submits.
        disabled={expired}
        aria-busy={lease.extending}
        title={expired ? "An expired reservation cannot be extended" : "Keep this item reserved for another lease period"}
      >
        Extend <kbd>e</kbd>
      </button>
    </span>
  );
}
