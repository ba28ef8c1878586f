import { describe, expect, it } from "vitest";
import type { Criterion } from "../src/client/types";
import {
  answerToDraft,
  buildAnswer,
  emptyAnswerDraft,
  formatAnswer,
  ranksToTiers,
  tiersToRanks,
} from "../src/quality/answers";

const ids = [11, 12, 13];
const criteria: Criterion[] = [
  { name: "helpfulness", description: "", min: 1, max: 5, labels: null, weight: 1 },
  { name: "harmless", description: "", min: 0, max: 1, labels: null, weight: 1 },
];

describe("formatAnswer", () => {
  it("reads pairwise answers by display letter and strength", () => {
    expect(formatAnswer("pairwise", { choice: "a", strength: 2 }, ids)).toBe("A, strength 2");
    expect(formatAnswer("pairwise", { choice: "b", strength: 3 }, ids)).toBe("B, strength 3");
    expect(formatAnswer("pairwise", { choice: "tie", strength: 0 }, ids)).toBe("Tie");
  });

  it("reads rankings best first with ties joined by =", () => {
    expect(formatAnswer("ranking", { order: [[12], [11], [13]] }, ids)).toBe("B ≻ A ≻ C");
    expect(formatAnswer("ranking", { order: [[13], [11, 12]] }, ids)).toBe("C ≻ A = B");
    expect(formatAnswer("ranking", { order: [[99], [11]] }, ids)).toBe("#99 ≻ A");
  });

  it("reads scores in rubric order", () => {
    expect(formatAnswer("rating", { scores: { harmless: 1, helpfulness: 4 } }, ids, criteria)).toBe(
      "helpfulness 4 · harmless 1",
    );
  });

  it("says when there is no answer and falls back to JSON for unknown shapes", () => {
    expect(formatAnswer("pairwise", null, ids)).toBe("No answer");
    expect(formatAnswer("pairwise", { choice: "z" }, ids)).toBe('{"choice":"z"}');
  });
});

describe("the reviewer's answer", () => {
  it("turns ranks into tiers (equal ranks tie) and back", () => {
    expect(ranksToTiers({ 11: 2, 12: 1, 13: 2 }, ids)).toEqual([[12], [11, 13]]);
    expect(ranksToTiers({ 11: 3, 12: 3, 13: 3 }, ids)).toEqual([[11, 12, 13]]);
    expect(tiersToRanks([[12], [11, 13]])).toEqual({ 12: 1, 11: 2, 13: 2 });
  });

  it("starts from an annotator's answer and builds the same answer again", () => {
    const ranking = answerToDraft("ranking", { order: [[13], [11, 12]] }, ids);
    expect(buildAnswer("ranking", ranking, ids, [])).toEqual({ ok: true, answer: { order: [[13], [11, 12]] } });
    const pair = answerToDraft("pairwise", { choice: "b", strength: 1 }, ids);
    expect(buildAnswer("pairwise", pair, ids, [])).toEqual({ ok: true, answer: { choice: "b", strength: 1 } });
    const tie = answerToDraft("pairwise", { choice: "tie", strength: 0 }, ids);
    expect(buildAnswer("pairwise", tie, ids, [])).toEqual({ ok: true, answer: { choice: "tie", strength: 1 } });
  });

  it("says what is missing", () => {
    expect(buildAnswer("pairwise", emptyAnswerDraft(ids), ids, [])).toEqual({ ok: false, problem: "Choose A, B or tie first." });
    const partial = { ...emptyAnswerDraft(ids), scores: { helpfulness: 4 } };
    expect(buildAnswer("rating", partial, ids, criteria)).toEqual({
      ok: false,
      problem: "Score every criterion first (missing: harmless).",
    });
    const full = { ...partial, scores: { helpfulness: 4, harmless: 0 } };
    expect(buildAnswer("rating", full, ids, criteria)).toEqual({ ok: true, answer: { scores: { helpfulness: 4, harmless: 0 } } });
  });
});
