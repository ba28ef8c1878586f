import type { Criterion, ItemView, LabelSubmit, TaskKind } from "../client/types";
import type { Choice, Strength } from "./pairwise";
import { initialTiers, type Tiers } from "./ranking";

/** Everything the annotator has entered for one item (kept as is when a submit fails). */
export interface Draft {
  choice: Choice | null;
  strength: Strength;
  tiers: Tiers;
  scores: Record<string, number>;
  flags: string[];
  rationale: string;
  rewrite: string;
}

export function emptyDraft(item: ItemView): Draft {
  return {
    choice: null,
    strength: 2,
    tiers: initialTiers(item.candidates.map((c) => c.id)),
    scores: {},
    flags: [],
    rationale: "",
    rewrite: "",
  };
}

export type Built = { ok: true; body: LabelSubmit } | { ok: false; problem: string };

type AnswerOrProblem = { answer: Record<string, unknown> } | { problem: string };

function answerFor(kind: TaskKind, draft: Draft, criteria: Criterion[]): AnswerOrProblem {
  if (kind === "pairwise") {
    if (!draft.choice) return { problem: "Choose A, B or tie first (keys a, b, t)." };
    return { answer: { choice: draft.choice, strength: draft.choice === "tie" ? 1 : draft.strength } };
  }
  if (kind === "ranking") return { answer: { order: draft.tiers } };
  const missing = criteria.filter((c) => draft.scores[c.name] === undefined).map((c) => c.name);
  if (missing.length) return { problem: `Score every criterion first (missing: ${missing.join(", ")}).` };
  return { answer: { scores: Object.fromEntries(criteria.map((c) => [c.name, draft.scores[c.name]!])) } };
}

/**
 * Turn a draft into the label to submit, or say what is missing. A flagged item may go without an
 * answer (e.g. an unusable prompt cannot be judged).
 */
export function buildSubmit(
  kind: TaskKind,
  draft: Draft,
  criteria: Criterion[],
  timeSpentMs: number | null,
): Built {
  const result = answerFor(kind, draft, criteria);
  if ("problem" in result && draft.flags.length === 0) return { ok: false, problem: result.problem };
  const body: LabelSubmit = {
    flags: draft.flags,
    rationale: draft.rationale.trim() || null,
    rewrite: draft.rewrite.trim() || null,
    time_spent_ms: timeSpentMs === null ? null : Math.max(0, Math.round(timeSpentMs)),
  };
  if ("answer" in result) body.answer = result.answer;
  return { ok: true, body };
}

export const FLAG_OPTIONS: { value: string; label: string; key: string | null }[] = [
  { value: "unusable", label: "Unusable", key: "u" },
  { value: "unsafe", label: "Unsafe", key: "x" },
  { value: "prompt_problem", label: "Prompt problem", key: null },
  { value: "duplicate", label: "Duplicate", key: null },
  { value: "other", label: "Other", key: null },
];

export function toggleFlag(flags: string[], flag: string): string[] {
  return flags.includes(flag) ? flags.filter((f) => f !== flag) : [...flags, flag];
}
