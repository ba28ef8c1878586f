/** The API's flag thresholds for the annotator table (its defaults until someone changes them). */
export interface FlagThresholds {
  fast_ms: number;
  max_fast_share: number;
  min_gold_accuracy: number;
  min_consensus_agreement: number;
  position_bias_p: number;
  min_evidence: number;
}

export const DEFAULT_THRESHOLDS: FlagThresholds = {
  fast_ms: 3000,
  max_fast_share: 0.25,
  min_gold_accuracy: 0.7,
  min_consensus_agreement: 0.6,
  position_bias_p: 0.01,
  min_evidence: 10,
};

export const THRESHOLD_FIELDS: { key: keyof FlagThresholds; label: string; step: string; min: number; max: number }[] = [
  { key: "fast_ms", label: "Fast answer under (ms)", step: "100", min: 0, max: 3_600_000 },
  { key: "max_fast_share", label: "Too fast above share", step: "0.05", min: 0, max: 1 },
  { key: "min_gold_accuracy", label: "Gold accuracy at least", step: "0.05", min: 0, max: 1 },
  { key: "min_consensus_agreement", label: "Consensus agreement at least", step: "0.05", min: 0, max: 1 },
  { key: "position_bias_p", label: "Position bias p below", step: "0.001", min: 0, max: 1 },
  { key: "min_evidence", label: "Judgements before flagging", step: "1", min: 1, max: 100_000 },
];

export type ThresholdDraft = Record<keyof FlagThresholds, string>;

export function thresholdDraft(t: FlagThresholds): ThresholdDraft {
  return Object.fromEntries(THRESHOLD_FIELDS.map((f) => [f.key, String(t[f.key])])) as ThresholdDraft;
}

/** Typed values back to numbers; a blank or invalid field keeps its current value. */
export function applyThresholdDraft(current: FlagThresholds, draft: ThresholdDraft): FlagThresholds {
  const next = { ...current };
  for (const f of THRESHOLD_FIELDS) {
    const n = Number(draft[f.key]);
    if (draft[f.key].trim() !== "" && Number.isFinite(n)) next[f.key] = n;
  }
  return next;
}
