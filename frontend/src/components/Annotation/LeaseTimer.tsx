import { useEffect, useState } from "react";
import { formatClock } from "../../lib/format";
import styles from "./Annotation.module.css";

interface LeaseTimerProps {
  leasedAt: string;
  expiresAt: string;
  serverOffsetMs: number;
}

function secondsLeft(leasedAt: string, expiresAt: string, offset: number): number {
  const expires = Date.parse(expiresAt);
  // The server's Date header has whole seconds: never show more than the lease itself.
  const left = (expires - (Date.now() + offset)) / 1000;
  return Math.min(left, (expires - Date.parse(leasedAt)) / 1000);
}

/** How long this item stays reserved for me (the lease), counting down each second. */
export function LeaseTimer({ leasedAt, expiresAt, serverOffsetMs }: LeaseTimerProps) {
  const [left, setLeft] = useState(() => secondsLeft(leasedAt, expiresAt, serverOffsetMs));
  useEffect(() => {
    const tick = () => setLeft(secondsLeft(leasedAt, expiresAt, serverOffsetMs));
    tick();
    const timer = window.setInterval(tick, 1000);
    return () => window.clearInterval(timer);
  }, [leasedAt, expiresAt, serverOffsetMs]);
  const expired = left <= 0;
  const low = !expired && left < 60;
  return (
    <span
      className={`${styles.stat} ${low ? styles.statWarn : ""} ${expired ? styles.statDanger : ""}`}
      title={expired ? "The lease ran out: your label is still accepted if the item needs one" : "Time left on this item"}
    >
      <span className={styles.statLabel}>{expired ? "Lease" : "Time left"}</span>
      <span className={styles.statValue} role="timer" aria-live="off">
        {expired ? "expired" : formatClock(left)}
      </span>
    </span>
  );
}
