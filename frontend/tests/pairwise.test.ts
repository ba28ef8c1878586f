import { describe, expect, it } from "vitest";
import { buildSubmit, emptyDraft } from "../src/annotation/draft";
import { pairwiseKeyAction } from "../src/annotation/pairwise";

describe("pairwise key map", () => {
  it.each([
    ["a", { kind: "choice", choice: "a" }],
    ["ArrowLeft", { kind: "choice", choice: "a" }],
    ["b", { kind: "choice", choice: "b" }],
    ["ArrowRight", { kind: "choice", choice: "b" }],
    ["t", { kind: "choice", choice: "tie" }],
    ["=", { kind: "choice", choice: "tie" }],
    ["1", { kind: "strength", strength: 1 }],
    ["2", { kind: "strength", strength: 2 }],
    ["3", { kind: "strength", strength: 3 }],
  ])("%s", (key, action) => {
    expect(pairwiseKeyAction(key)).toEqual(action);
  });

  it("ignores other keys", () => {
    for (const key of ["4", "0", "c", "Enter", " ", "s"]) expect(pairwiseKeyAction(key)).toBeNull();
  });
});

describe("buildSubmit", () => {
  const item = { id: 1, prompt: { id: 1, text: "q", messages: null }, candidates: [{ id: 5, text: "x" }, { id: 6, text: "y" }] };

  it("needs a choice unless the item is flagged", () => {
    const draft = emptyDraft(item);
    expect(buildSubmit("pairwise", draft, [], 10)).toEqual({ ok: false, problem: expect.stringContaining("Choose") });
    const flagged = buildSubmit("pairwise", { ...draft, flags: ["unusable"] }, [], 10);
    expect(flagged).toEqual({ ok: true, body: { flags: ["unusable"], rationale: null, rewrite: null, time_spent_ms: 10 } });
  });

  it("sends the strength only as chosen, and trims text", () => {
    const draft = { ...emptyDraft(item), choice: "b" as const, strength: 3 as const, rationale: "  clearer  " };
    const built = buildSubmit("pairwise", draft, [], 1234.4);
    expect(built).toEqual({
      ok: true,
      body: { answer: { choice: "b", strength: 3 }, flags: [], rationale: "clearer", rewrite: null, time_spent_ms: 1234 },
    });
  });

  it("requires every rubric criterion for ratings", () => {
    const criteria = [{ name: "helpful" }, { name: "honest" }];
    const draft = { ...emptyDraft(item), scores: { helpful: 4 } };
    expect(buildSubmit("rating", draft, criteria, null)).toEqual({ ok: false, problem: expect.stringContaining("honest") });
    const full = buildSubmit("rating", { ...draft, scores: { helpful: 4, honest: 5 } }, criteria, null);
    expect(full.ok && full.body.answer).toEqual({ scores: { helpful: 4, honest: 5 } });
  });
});
