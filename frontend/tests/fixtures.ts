// Test data shared by several test files (not a test file itself).
import type { AnnotatorQuality } from "../src/client/types";

/** An annotator row as GET /quality/annotators returns it, changed by `patch`. */
export function annotator(patch: Partial<AnnotatorQuality>): AnnotatorQuality {
  return {
    user_id: 1,
    username: "ann",
    display_name: null,
    role: "annotator",
    paused: false,
    labels: 10,
    gold_items: 0,
    gold_accuracy: null,
    compared_items: 10,
    consensus_agreement: 0.8,
    first_pick_share: 0.5,
    first_pick_chance: 0.5,
    position_bias_p: 0.5,
    median_time_ms: 5000,
    fast_share: 0,
    reliability_weight: 1,
    flags: [],
    ...patch,
  };
}
