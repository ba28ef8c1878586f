import { FLAG_OPTIONS } from "../annotation/draft";
import type { Aggregation, PairSource, SnapshotCreate, SnapshotSpec, TiePolicy } from "../client/types";

/** The snapshot form as typed (numbers stay strings until the form is sent). */
export interface SnapshotFormValues {
  name: string;
  aggregation: Aggregation;
  ties: TiePolicy;
  minAgreement: string;
  minAnnotators: string;
  /** Split shares in percent. */
  train: string;
  validation: string;
  test: string;
  seed: string;
  excludePaused: boolean;
  includeGold: boolean;
  sources: PairSource[];
  // Advanced
  since: string;
  until: string;
  excludeFlags: string[];
  ratingCriterion: string;
  ratingMinDifference: string;
  rewriteMargin: string;
  usePromptSplit: boolean;
}

export const ALL_SOURCES: { value: PairSource; label: string }[] = [
  { value: "pairwise", label: "Pairwise choices" },
  { value: "ranking", label: "Rankings" },
  { value: "rating", label: "Ratings" },
  { value: "rewrite", label: "Rewrites (rewrite ≻ original)" },
];

export const DEFAULT_EXCLUDE_FLAGS = ["unusable", "unsafe", "prompt_problem"];
export const EXCLUDABLE_FLAGS = FLAG_OPTIONS.map((f) => ({ value: f.value, label: f.label }));

export function defaultSnapshotForm(today: Date = new Date()): SnapshotFormValues {
  return {
    name: `snapshot-${today.toISOString().slice(0, 10)}`,
    aggregation: "majority",
    ties: "drop",
    minAgreement: "",
    minAnnotators: "1",
    train: "80",
    validation: "10",
    test: "10",
    seed: "0",
    excludePaused: true,
    includeGold: false,
    sources: ALL_SOURCES.map((s) => s.value),
    since: "",
    until: "",
    excludeFlags: [...DEFAULT_EXCLUDE_FLAGS],
    ratingCriterion: "",
    ratingMinDifference: "0.25",
    rewriteMargin: "1",
    usePromptSplit: true,
  };
}

export type BuiltSnapshot = { ok: true; body: SnapshotCreate } | { ok: false; problem: string };

class Problem extends Error {}

function num(value: string, what: string, { integer = false } = {}): number {
  const n = Number(value.trim());
  if (value.trim() === "" || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new Problem(`${what} must be ${integer ? "a whole number" : "a number"}.`);
  }
  return n;
}

/** A datetime-local value (the browser's local time) as an ISO instant, or null when empty. */
function instant(value: string, what: string): string | null {
  if (!value.trim()) return null;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new Problem(`${what} is not a valid date and time.`);
  return date.toISOString();
}

function splitRatios(v: SnapshotFormValues): NonNullable<SnapshotSpec["splits"]> {
  const train = num(v.train, "Train share");
  const validation = num(v.validation, "Validation share");
  const test = num(v.test, "Test share");
  if ([train, validation, test].some((x) => x < 0) || Math.abs(train + validation + test - 100) > 1e-6) {
    throw new Problem("The split shares must be 0 or more and add up to 100%.");
  }
  return { train: train / 100, validation: validation / 100, test: test / 100 };
}

/** The request body for POST /snapshots, or the first thing to fix (the server checks everything again). */
export function toSnapshotCreate(v: SnapshotFormValues): BuiltSnapshot {
  try {
    const name = v.name.trim();
    if (!name) throw new Problem("Give the snapshot a name.");
    if (v.sources.length === 0) throw new Problem("Choose at least one kind of pair to make.");
    const spec: SnapshotSpec = {
      aggregation: v.aggregation,
      ties: v.ties,
      min_annotators: num(v.minAnnotators, "Minimum annotators", { integer: true }),
      min_agreement: v.minAgreement.trim() === "" ? null : num(v.minAgreement, "Minimum agreement"),
      splits: splitRatios(v),
      use_prompt_split: v.usePromptSplit,
      seed: num(v.seed, "Seed", { integer: true }),
      exclude_paused: v.excludePaused,
      include_gold: v.includeGold,
      sources: [...v.sources],
      exclude_flags: [...v.excludeFlags],
      rating_min_difference: num(v.ratingMinDifference, "Minimum rating difference"),
      rewrite_margin: num(v.rewriteMargin, "Rewrite margin"),
    };
    const since = instant(v.since, "“Labels from”");
    const until = instant(v.until, "“Labels before”");
    if (since) spec.since = since;
    if (until) spec.until = until;
    if (v.ratingCriterion) spec.rating_criterion = v.ratingCriterion;
    return { ok: true, body: { name, spec } };
  } catch (err) {
    if (err instanceof Problem) return { ok: false, problem: err.message };
    throw err;
  }
}
