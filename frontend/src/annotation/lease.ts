/**
 * The lease: how long an item stays reserved for me, and when the screen extends it on its own.
 * Pure functions (the clock is passed in), so the decisions are tested without timers.
 */

/** Auto-extend when fewer seconds than this are left (less on very short leases, see autoExtendBelow). */
export const AUTO_EXTEND_BELOW_S = 60;
/** …and only when the annotator did something with the item this recently. */
export const RECENT_INTERACTION_MS = 60_000;

/** Seconds left on a lease, by the server's clock (offset = server time − our time). */
export function secondsLeft(leasedAt: string, expiresAt: string, serverOffsetMs: number, nowMs: number): number {
  const expires = Date.parse(expiresAt);
  const left = (expires - (nowMs + serverOffsetMs)) / 1000;
  // The server's Date header has whole seconds: never show more than the lease itself.
  return Math.min(left, (expires - Date.parse(leasedAt)) / 1000);
}

/**
 * The threshold for a lease of this length: 60 s, or half the lease when that is shorter, so that an
 * extended short lease (30 s) does not fall under the threshold again at once.
 */
export function autoExtendBelow(leaseSeconds: number): number {
  return Math.min(AUTO_EXTEND_BELOW_S, leaseSeconds / 2);
}

export interface AutoExtendInput {
  /** Seconds left on the lease now (≤ 0: it expired, and an expired lease cannot be extended). */
  secondsLeft: number;
  /** When the annotator last typed, clicked or changed an answer on this item (ms, same clock as nowMs). */
  lastInteractionMs: number | null;
  nowMs: number;
  /** Whether this lease period (this expires_at) already had its automatic extension (tried or done). */
  extendedThisPeriod: boolean;
  /** The project's lease length in seconds. */
  leaseSeconds: number;
}

/** Extend on my behalf: little time left, I am clearly still working on the item, and not done already this period. */
export function shouldAutoExtend({
  secondsLeft: left,
  lastInteractionMs,
  nowMs,
  extendedThisPeriod,
  leaseSeconds,
}: AutoExtendInput): boolean {
  if (extendedThisPeriod || lastInteractionMs === null) return false;
  if (left <= 0 || left >= autoExtendBelow(leaseSeconds)) return false;
  const idle = nowMs - lastInteractionMs;
  return idle >= 0 && idle <= RECENT_INTERACTION_MS;
}
