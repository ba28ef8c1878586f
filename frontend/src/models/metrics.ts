// What the Models page shows of a version's metrics and of the leaderboard (pure, tested).
import type { LeaderboardEntry, ModelVersion } from "../client/types";

export interface KeyMetric {
  label: string;
  value: string;
  /** The evaluation job the number comes from, to link to. */
  jobId?: number;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function numberAt(obj: Record<string, unknown>, key: string): number | null {
  const v = obj[key];
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** A metric value in a few characters: 0.714 → "0.714", 12.3456 → "12.35", 1234.5 → "1235". */
export function formatMetric(x: number): string {
  const abs = Math.abs(x);
  if (abs >= 100) return x.toFixed(0);
  if (abs >= 1) return x.toFixed(2);
  return x.toFixed(3);
}

const percent = (x: number) => `${(x * 100).toFixed(1)}%`;

/** The entry `<prefix><n>` with the highest n (the latest evaluation), with n. */
export function latestEntry(metrics: Record<string, unknown>, prefix: string): { n: number; values: Record<string, unknown> } | null {
  let best: { n: number; values: Record<string, unknown> } | null = null;
  for (const [key, values] of Object.entries(metrics)) {
    if (!key.startsWith(prefix) || !isRecord(values)) continue;
    const n = Number(key.slice(prefix.length));
    if (Number.isInteger(n) && (!best || n > best.n)) best = { n, values };
  }
  return best;
}

/**
 * The few numbers worth a glance. Reward models: validation and test accuracy from training, and
 * the latest held-out accuracy an evaluation job measured (`snapshot_<id>`). Policies (and bases
 * that were evaluated): the latest `evaluation_job_<id>` entry's win rate, KL and mean rewards.
 */
export function keyMetrics(m: ModelVersion): KeyMetric[] {
  const out: KeyMetric[] = [];
  const metrics = m.metrics;
  if (m.kind === "reward") {
    const val = numberAt(metrics, "validation_accuracy");
    const test = numberAt(metrics, "test_accuracy");
    if (val !== null) out.push({ label: "Validation accuracy", value: percent(val) });
    if (test !== null) out.push({ label: "Test accuracy", value: percent(test) });
    const held = latestEntry(metrics, "snapshot_");
    const acc = held ? numberAt(held.values, "reward_accuracy") : null;
    if (held && acc !== null) out.push({ label: `Accuracy on snapshot #${held.n}`, value: percent(acc) });
    return out;
  }
  const evaluation = latestEntry(metrics, "evaluation_job_");
  if (!evaluation) return out;
  const e = evaluation.values;
  const jobId = evaluation.n;
  const winRate = numberAt(e, "win_rate");
  const kl = numberAt(e, "kl");
  const reward = numberAt(e, "policy_mean_reward");
  const baselineReward = numberAt(e, "baseline_mean_reward");
  if (winRate !== null) out.push({ label: "Win rate vs baseline", value: percent(winRate), jobId });
  if (kl !== null) out.push({ label: "KL to baseline", value: formatMetric(kl), jobId });
  if (reward !== null) {
    const vs = baselineReward !== null ? ` (baseline ${formatMetric(baselineReward)})` : "";
    out.push({ label: "Mean reward", value: `${formatMetric(reward)}${vs}`, jobId });
  }
  return out;
}

/** "1032 (990–1075)": the rating and its 95% interval, rounded. */
export function formatRating(e: Pick<LeaderboardEntry, "rating" | "ci_low" | "ci_high">): string {
  return `${Math.round(e.rating)} (${Math.round(e.ci_low)}–${Math.round(e.ci_high)})`;
}

/** "8 / 2 / 1": wins, losses, ties. */
export function formatRecord(e: Pick<LeaderboardEntry, "wins" | "losses" | "ties">): string {
  return `${e.wins} / ${e.losses} / ${e.ties}`;
}

export interface RatingPoint {
  /** "name #id": names need not be unique. */
  label: string;
  rating: number;
  /** Distances below and above the rating to the interval's ends (for an error bar). */
  interval: [number, number];
}

/** Leaderboard rows as chart points, best first. */
export function ratingPoints(entries: LeaderboardEntry[]): RatingPoint[] {
  return [...entries]
    .sort((a, b) => b.rating - a.rating)
    .map((e) => ({
      label: `${e.name} #${e.model_version_id}`,
      rating: e.rating,
      interval: [Math.max(0, e.rating - e.ci_low), Math.max(0, e.ci_high - e.rating)],
    }));
}
