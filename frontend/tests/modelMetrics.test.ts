import { describe, expect, it } from "vitest";
import type { LeaderboardEntry, ModelVersion } from "../src/client/types";
import { formatMetric, formatRating, formatRecord, keyMetrics, latestEntry, ratingPoints } from "../src/models/metrics";

function version(patch: Partial<ModelVersion>): ModelVersion {
  return {
    id: 1,
    name: "v",
    kind: "base",
    status: "ready",
    source: "x",
    parent_id: null,
    job_id: null,
    snapshot_id: null,
    metrics: {},
    info: {},
    error: null,
    created_at: "2026-01-01T00:00:00Z",
    ...patch,
  };
}

function entry(patch: Partial<LeaderboardEntry>): LeaderboardEntry {
  return { model_version_id: 1, name: "v", kind: "policy", rating: 1000, ci_low: 950, ci_high: 1050, wins: 0, losses: 0, ties: 0, comparisons: 0, ...patch };
}

describe("key metrics", () => {
  it("shows a reward model's accuracies, the latest held-out one last", () => {
    const rm = version({
      kind: "reward",
      metrics: {
        validation_accuracy: 0.7143,
        test_accuracy: 0.65,
        train_loss: 0.4,
        snapshot_3: { reward_accuracy: 0.6 },
        snapshot_12: { reward_accuracy: 0.8, reward_margin: 1.2 },
      },
    });
    expect(keyMetrics(rm)).toEqual([
      { label: "Validation accuracy", value: "71.4%" },
      { label: "Test accuracy", value: "65.0%" },
      { label: "Accuracy on snapshot #12", value: "80.0%" },
    ]);
  });

  it("shows a policy's latest evaluation: win rate, KL, mean rewards", () => {
    const policy = version({
      kind: "policy",
      metrics: {
        mean_reward: 3,
        evaluation_job_4: { win_rate: 0.1, kl: 9 },
        evaluation_job_21: { win_rate: 0.625, kl: 0.01234, policy_mean_reward: 1.5, baseline_mean_reward: -0.25 },
      },
    });
    expect(keyMetrics(policy)).toEqual([
      { label: "Win rate vs baseline", value: "62.5%", jobId: 21 },
      { label: "KL to baseline", value: "0.012", jobId: 21 },
      { label: "Mean reward", value: "1.50 (baseline -0.250)", jobId: 21 },
    ]);
    // Without a reward model the evaluation has no rewards or win rate.
    expect(keyMetrics(version({ metrics: { evaluation_job_2: { kl: 2.5 } } }))).toEqual([
      { label: "KL to baseline", value: "2.50", jobId: 2 },
    ]);
    expect(keyMetrics(version({}))).toEqual([]);
  });

  it("finds the latest numbered entry and formats numbers short", () => {
    expect(latestEntry({ evaluation_job_9: {}, evaluation_job_10: { a: 1 }, evaluation_job_x: {}, other: {} }, "evaluation_job_")).toEqual({
      n: 10,
      values: { a: 1 },
    });
    expect(latestEntry({ evaluation_job_3: 0.5 }, "evaluation_job_")).toBeNull();
    expect(formatMetric(1234.5)).toBe("1235");
    expect(formatMetric(12.3456)).toBe("12.35");
    expect(formatMetric(0.71449)).toBe("0.714");
  });
});

describe("leaderboard", () => {
  it("writes ratings with their interval and the record", () => {
    const e = entry({ rating: 1032.4, ci_low: 989.6, ci_high: 1075.2, wins: 8, losses: 2, ties: 1 });
    expect(formatRating(e)).toBe("1032 (990–1075)");
    expect(formatRecord(e)).toBe("8 / 2 / 1");
  });

  it("gives chart points best first with distances to the interval ends", () => {
    const points = ratingPoints([
      entry({ model_version_id: 1, name: "old", rating: 950, ci_low: 900, ci_high: 990 }),
      entry({ model_version_id: 2, name: "new", rating: 1050, ci_low: 1010, ci_high: 1110 }),
    ]);
    expect(points).toEqual([
      { label: "new #2", rating: 1050, interval: [40, 60] },
      { label: "old #1", rating: 950, interval: [50, 40] },
    ]);
  });
});
