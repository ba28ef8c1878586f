import { useState } from "react";
import type { CandidateText, Criterion, TaskKind } from "../../client/types";
import type { AnswerDraft } from "../../quality/answers";
import { PairwiseControls } from "../Annotation/PairwiseTask";
import { RatingControls } from "../Annotation/RatingTask";
import { RankSelects } from "./RankSelects";

interface AnswerEditorProps {
  kind: TaskKind;
  draft: AnswerDraft;
  onChange: (draft: AnswerDraft) => void;
  candidates: CandidateText[];
  criteria: Criterion[];
}

/** The answer controls of the task kind: the labeling screen's own for pairwise and rating, ranks for ranking. */
export function AnswerEditor({ kind, draft, onChange, candidates, criteria }: AnswerEditorProps) {
  const [activeCriterion, setActiveCriterion] = useState(0);
  if (kind === "pairwise") {
    return (
      <fieldset style={{ border: 0, margin: 0, padding: 0 }}>
        <legend className="label">Which response is better, and by how much?</legend>
        <PairwiseControls
          keyHints={false}
          choice={draft.choice}
          strength={draft.strength}
          onChoice={(choice) => onChange({ ...draft, choice })}
          onStrength={(strength) => onChange({ ...draft, strength })}
        />
      </fieldset>
    );
  }
  if (kind === "ranking") {
    return <RankSelects candidates={candidates} ranks={draft.ranks} onChange={(ranks) => onChange({ ...draft, ranks })} />;
  }
  return (
    <RatingControls
      criteria={criteria}
      scores={draft.scores}
      active={activeCriterion}
      onActivate={setActiveCriterion}
      onScore={(name, value) => onChange({ ...draft, scores: { ...draft.scores, [name]: value } })}
    />
  );
}
