import type { AgreementMetric, AnnotatorQuality, ProjectRole } from "../client/types";

const METRIC_NAMES: Record<string, string> = {
  percent_agreement: "Percent agreement",
  fleiss_kappa: "Fleiss’ κ",
  cohen_kappa_mean: "Cohen’s κ (mean over pairs)",
  krippendorff_alpha: "Krippendorff’s α",
  krippendorff_alpha_interval: "Krippendorff’s α (overall score)",
  kendall_w: "Kendall’s W",
  kendall_tau_b: "Kendall’s τ-b (mean over pairs)",
};

/** A metric's readable name, with its rubric criterion where it has one. */
export function metricLabel(m: Pick<AgreementMetric, "name" | "criterion">): string {
  const base = METRIC_NAMES[m.name] ?? m.name.replace(/_/g, " ");
  return m.criterion ? `${base} · ${m.criterion}` : base;
}

/** Three decimals, or "n/a" where the statistic is undefined (too little data). */
export function formatMetric(value: number | null | undefined): string {
  return value == null || !Number.isFinite(value) ? "n/a" : value.toFixed(3);
}

/** A 0..1 share as a percentage, or "–" when there is nothing to measure. */
export function formatShare(value: number | null | undefined): string {
  return value == null ? "–" : `${Math.round(value * 100)}%`;
}

export interface FlagInfo {
  label: string;
  description: string;
}

export const FLAG_INFO: Record<string, FlagInfo> = {
  position_bias: {
    label: "Position bias",
    description: "Prefers the first-shown response more often than chance explains.",
  },
  too_fast: { label: "Too fast", description: "Too many answers quicker than the fast threshold." },
  low_agreement: { label: "Low agreement", description: "Often disagrees with the other annotators’ consensus." },
  low_gold_accuracy: { label: "Low gold accuracy", description: "Often misses the known answers of gold items." },
};

export function flagInfo(flag: string): FlagInfo {
  return FLAG_INFO[flag] ?? { label: flag.replace(/_/g, " "), description: flag };
}

/** Flagged annotators first (most flags first); otherwise the order the API gave. */
export function flaggedFirst(rows: readonly AnnotatorQuality[]): AnnotatorQuality[] {
  return rows
    .map((row, i) => ({ row, i }))
    .sort((a, b) => b.row.flags.length - a.row.flags.length || a.i - b.i)
    .map(({ row }) => row);
}

/** The histogram's ten buckets as chart rows: "0.0–0.1" … "0.9–1.0". */
export function histogramRows(counts: readonly number[]): { bucket: string; items: number }[] {
  return counts.map((items, i) => ({ bucket: `${(i / 10).toFixed(1)}–${((i + 1) / 10).toFixed(1)}`, items }));
}

/** A member's role as the annotator table reports it (null: not a member, e.g. an admin who labeled). */
export function isProjectRole(role: string | null | undefined): role is ProjectRole {
  return role === "annotator" || role === "reviewer" || role === "manager";
}
