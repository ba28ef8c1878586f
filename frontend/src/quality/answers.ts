import type { Choice, Strength } from "../annotation/pairwise";
import type { Tiers } from "../annotation/ranking";
import type { Answer, Criterion, TaskKind } from "../client/types";

/**
 * Answers as people read them ("A, strength 2", "B ≻ A = C", "helpfulness 4 · harmless 1") and the
 * reviewer's answer being entered, turned into the API's answer shape for that task kind.
 */

/** Candidates are named by display position: A, B, C… (the order every annotator saw). */
export function letterAt(index: number): string {
  return String.fromCharCode(65 + index);
}

function letterOf(candidateIds: readonly number[], id: number): string {
  const i = candidateIds.indexOf(id);
  return i >= 0 ? letterAt(i) : `#${id}`;
}

function isTiers(value: unknown): value is Tiers {
  return Array.isArray(value) && value.every((t) => Array.isArray(t) && t.every((c) => typeof c === "number"));
}

function isScores(value: unknown): value is Record<string, number> {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === "number")
  );
}

function isChoice(value: unknown): value is Choice {
  return value === "a" || value === "b" || value === "tie";
}

function isStrength(value: unknown): value is Strength {
  return value === 1 || value === 2 || value === 3;
}

/** One answer in words, for any task kind; `null` (a flagged label without an answer) reads "No answer". */
export function formatAnswer(
  kind: TaskKind,
  answer: Answer | null | undefined,
  candidateIds: readonly number[],
  criteria: readonly Criterion[] = [],
): string {
  if (!answer) return "No answer";
  if (kind === "pairwise" && isChoice(answer.choice)) {
    if (answer.choice === "tie") return "Tie";
    const strength = typeof answer.strength === "number" ? `, strength ${answer.strength}` : "";
    return `${answer.choice.toUpperCase()}${strength}`;
  }
  if (kind === "ranking" && isTiers(answer.order)) {
    return answer.order.map((tier) => tier.map((id) => letterOf(candidateIds, id)).join(" = ")).join(" ≻ ");
  }
  if (kind === "rating" && isScores(answer.scores)) {
    const scores = answer.scores;
    const known = criteria.map((c) => c.name).filter((name) => name in scores);
    const names = [...known, ...Object.keys(scores).filter((n) => !known.includes(n))];
    return names.map((name) => `${name} ${scores[name]}`).join(" · ");
  }
  return JSON.stringify(answer);
}

/** What a reviewer has entered so far (kept as is while they switch between controls). */
export interface AnswerDraft {
  choice: Choice | null;
  strength: Strength;
  /** Ranking: candidate id → rank, 1 = best; equal ranks are ties. */
  ranks: Record<number, number>;
  scores: Record<string, number>;
}

export function emptyAnswerDraft(candidateIds: readonly number[]): AnswerDraft {
  return {
    choice: null,
    strength: 2,
    ranks: Object.fromEntries(candidateIds.map((id, i) => [id, i + 1])),
    scores: {},
  };
}

/** Tiers from per-candidate ranks: lower rank first, equal ranks in one tier, display order within a tier. */
export function ranksToTiers(ranks: Record<number, number>, candidateIds: readonly number[]): Tiers {
  const distinct = [...new Set(candidateIds.map((id) => ranks[id] ?? candidateIds.length))].sort((a, b) => a - b);
  return distinct.map((rank) => candidateIds.filter((id) => (ranks[id] ?? candidateIds.length) === rank));
}

/** Ranks from tiers: everyone in tier t gets rank t + 1. */
export function tiersToRanks(tiers: Tiers): Record<number, number> {
  const out: Record<number, number> = {};
  tiers.forEach((tier, t) => tier.forEach((id) => (out[id] = t + 1)));
  return out;
}

/** Start the reviewer's form from an existing answer (an annotator's, the gold one, a past decision). */
export function answerToDraft(kind: TaskKind, answer: Answer | null, candidateIds: readonly number[]): AnswerDraft {
  const draft = emptyAnswerDraft(candidateIds);
  if (!answer) return draft;
  if (kind === "pairwise" && isChoice(answer.choice)) {
    return { ...draft, choice: answer.choice, strength: isStrength(answer.strength) ? answer.strength : draft.strength };
  }
  if (kind === "ranking" && isTiers(answer.order)) return { ...draft, ranks: { ...draft.ranks, ...tiersToRanks(answer.order) } };
  if (kind === "rating" && isScores(answer.scores)) return { ...draft, scores: { ...answer.scores } };
  return draft;
}

export type BuiltAnswer = { ok: true; answer: Answer } | { ok: false; problem: string };

/** The API's answer for this draft, or what is still missing. */
export function buildAnswer(
  kind: TaskKind,
  draft: AnswerDraft,
  candidateIds: readonly number[],
  criteria: readonly Criterion[],
): BuiltAnswer {
  if (kind === "pairwise") {
    if (!draft.choice) return { ok: false, problem: "Choose A, B or tie first." };
    return { ok: true, answer: { choice: draft.choice, strength: draft.choice === "tie" ? 1 : draft.strength } };
  }
  if (kind === "ranking") return { ok: true, answer: { order: ranksToTiers(draft.ranks, candidateIds) } };
  const missing = criteria.filter((c) => draft.scores[c.name] === undefined).map((c) => c.name);
  if (missing.length) return { ok: false, problem: `Score every criterion first (missing: ${missing.join(", ")}).` };
  return { ok: true, answer: { scores: Object.fromEntries(criteria.map((c) => [c.name, draft.scores[c.name]!])) } };
}
