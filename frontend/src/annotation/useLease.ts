import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, errorMessage } from "../client/errors";
import { formatDuration } from "../lib/format";
import { autoExtendBelow, secondsLeft as leftOn, shouldAutoExtend } from "./lease";
import type { Leased } from "./useAssignmentQueue";

export interface LeaseClock {
  /** Seconds left on the lease of the item on screen (≤ 0 once it ran out). */
  secondsLeft: number;
  /** The lease ran out (by our clock, or the server said so when asked to extend it). */
  expired: boolean;
  /** Little time left and nothing will extend it on its own: worth a hint. */
  low: boolean;
  extending: boolean;
  /** Why the last extension failed (other than expiry), for the screen to show. */
  problem: string;
  /** Extend now (the button and the key). */
  extend: () => void;
}

const INTERACTIONS = ["keydown", "pointerdown", "input"] as const;

/**
 * The lease clock of the labeling screen: ticks each second, extends on request, and extends once per
 * lease period on its own when little time is left and the annotator has been at work on the item in
 * the last minute (see shouldAutoExtend). `announce` reads results out to screen readers.
 */
export function useLease(
  current: Leased | null,
  leaseSeconds: number,
  extendLease: () => Promise<void>,
  announce: (message: string) => void,
): LeaseClock | null {
  const [nowMs, setNowMs] = useState(() => Date.now());
  const [extending, setExtending] = useState(false);
  const [problem, setProblem] = useState<{ id: number; message: string } | null>(null);
  const [expiredFor, setExpiredFor] = useState<number | null>(null);
  const lastInteraction = useRef<{ id: number; at: number } | null>(null);
  const autoTriedFor = useRef<string | null>(null);
  const busy = useRef(false);
  const id = current?.assignment.id ?? null;

  useEffect(() => {
    if (id === null) return;
    setNowMs(Date.now());
    const timer = window.setInterval(() => setNowMs(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, [id]);

  // Anything done on the screen while this item is shown counts as working on it.
  useEffect(() => {
    if (id === null) return;
    const seen = () => {
      lastInteraction.current = { id, at: Date.now() };
    };
    for (const type of INTERACTIONS) window.addEventListener(type, seen, true);
    return () => {
      for (const type of INTERACTIONS) window.removeEventListener(type, seen, true);
    };
  }, [id]);

  const run = useCallback(
    async (how: "manual" | "auto") => {
      if (busy.current || id === null) return;
      busy.current = true;
      setExtending(true);
      try {
        await extendLease();
        setProblem(null);
        const more = formatDuration(leaseSeconds);
        announce(how === "auto" ? `Still working: reserved for another ${more}.` : `Reserved for another ${more}.`);
      } catch (err) {
        if (err instanceof ApiError && err.status === 409) setExpiredFor(id);
        else setProblem({ id, message: `Could not extend: ${errorMessage(err)}` });
        announce(errorMessage(err));
      } finally {
        busy.current = false;
        setExtending(false);
      }
    },
    [announce, extendLease, id, leaseSeconds],
  );

  const left = current
    ? leftOn(current.assignment.leased_at, current.assignment.expires_at, current.serverOffsetMs, nowMs)
    : 0;
  const expiresAt = current?.assignment.expires_at ?? null;

  useEffect(() => {
    if (id === null || expiresAt === null || expiredFor === id) return;
    const last = lastInteraction.current;
    const decide = {
      secondsLeft: left,
      lastInteractionMs: last && last.id === id ? last.at : null,
      nowMs,
      extendedThisPeriod: autoTriedFor.current === expiresAt,
      leaseSeconds,
    };
    if (shouldAutoExtend(decide)) {
      autoTriedFor.current = expiresAt;
      void run("auto");
    }
  }, [expiredFor, expiresAt, id, left, leaseSeconds, nowMs, run]);

  if (!current) return null;
  const expired = left <= 0 || expiredFor === current.assignment.id;
  return {
    secondsLeft: left,
    expired,
    low: !expired && left < autoExtendBelow(leaseSeconds),
    extending,
    problem: problem && problem.id === current.assignment.id ? problem.message : "",
    extend: () => void run("manual"),
  };
}
