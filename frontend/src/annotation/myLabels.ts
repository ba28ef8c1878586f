import type { Answer, Criterion, ItemView, LabelRead, TaskKind } from "../client/types";
import { answerToDraft, formatAnswer, ranksToTiers } from "../quality/answers";
import { emptyDraft, FLAG_OPTIONS, type Draft } from "./draft";
import { STRENGTH_LABELS, type Strength } from "./pairwise";

function isStrength(value: unknown): value is Strength {
  return value === 1 || value === 2 || value === 3;
}

/**
 * My answer as I gave it, in the words of the labeling screen: "A is better · clearly", "Tie",
 * "B ≻ A = C", "helpfulness 4 · harmless 1", "No answer". Rankings and ratings read as reviewers see them.
 */
export function answerInWords(
  kind: TaskKind,
  answer: Answer | null | undefined,
  candidateIds: readonly number[],
  criteria: readonly Criterion[] = [],
): string {
  if (kind === "pairwise" && answer && (answer.choice === "a" || answer.choice === "b")) {
    const strength = isStrength(answer.strength) ? ` · ${STRENGTH_LABELS[answer.strength].toLowerCase()}` : "";
    return `${answer.choice.toUpperCase()} is better${strength}`;
  }
  return formatAnswer(kind, answer, candidateIds, criteria);
}

/** The flags of a label as the labeling screen names them ("Unusable", "Prompt problem"). */
export function flagNames(flags: readonly string[]): string[] {
  return flags.map((f) => FLAG_OPTIONS.find((o) => o.value === f)?.label ?? f.replace(/_/g, " "));
}

/** The labeling form's input for a stored label, so editing starts from what I gave. */
export function draftFromLabel(kind: TaskKind, item: ItemView, label: LabelRead): Draft {
  const ids = item.candidates.map((c) => c.id);
  const base = emptyDraft(item);
  const answer = answerToDraft(kind, label.answer, ids);
  return {
    ...base,
    choice: answer.choice,
    strength: answer.strength,
    tiers: kind === "ranking" && label.answer ? ranksToTiers(answer.ranks, ids) : base.tiers,
    scores: answer.scores,
    flags: [...label.flags],
    rationale: label.rationale ?? "",
    rewrite: label.rewrite ?? "",
  };
}
