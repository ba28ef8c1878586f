import { describe, expect, it } from "vitest";
import { flaggedFirst, formatMetric, histogramRows, metricLabel } from "../src/quality/format";
import { applyThresholdDraft, DEFAULT_THRESHOLDS, thresholdDraft } from "../src/quality/thresholds";
import { annotator } from "./fixtures";


describe("quality formatting", () => {
  it("shows metric values to three decimals, or n/a", () => {
    expect(formatMetric(0.58333)).toBe("0.583");
    expect(formatMetric(-0.1)).toBe("-0.100");
    expect(formatMetric(null)).toBe("n/a");
    expect(metricLabel({ name: "fleiss_kappa", criterion: null })).toBe("Fleiss’ κ");
    expect(metricLabel({ name: "krippendorff_alpha", criterion: "helpfulness" })).toBe("Krippendorff’s α · helpfulness");
    expect(metricLabel({ name: "new_metric", criterion: null })).toBe("new metric");
  });

  it("puts flagged annotators first, most flags first, else keeps the order", () => {
    const rows = [
      annotator({ user_id: 1, username: "ann" }),
      annotator({ user_id: 2, username: "bob", flags: ["too_fast"] }),
      annotator({ user_id: 3, username: "cat" }),
      annotator({ user_id: 4, username: "dan", flags: ["too_fast", "low_agreement"] }),
    ];
    expect(flaggedFirst(rows).map((r) => r.username)).toEqual(["dan", "bob", "ann", "cat"]);
  });

  it("names the histogram's ten buckets", () => {
    const rows = histogramRows([1, 0, 0, 0, 0, 0, 0, 0, 0, 5]);
    expect(rows[0]).toEqual({ bucket: "0.0–0.1", items: 1 });
    expect(rows[9]).toEqual({ bucket: "0.9–1.0", items: 5 });
  });

  it("applies typed thresholds, keeping the old value for blanks", () => {
    const draft = { ...thresholdDraft(DEFAULT_THRESHOLDS), min_evidence: "1", fast_ms: "" };
    expect(applyThresholdDraft(DEFAULT_THRESHOLDS, draft)).toEqual({ ...DEFAULT_THRESHOLDS, min_evidence: 1 });
  });
});
