import type { Choice, Strength } from "../../annotation/pairwise";
import { STRENGTH_LABELS } from "../../annotation/pairwise";
import type { CandidateView } from "../../client/types";
import { Segmented } from "../ui/Segmented";
import styles from "./Annotation.module.css";
import { ResponseCard } from "./ResponseCard";

const LETTERS = ["A", "B"] as const;

/** Two responses side by side (stacked on narrow screens). */
export function PairwiseResponses({ candidates, choice }: { candidates: CandidateView[]; choice: Choice | null }) {
  return (
    <section className={styles.pair} aria-label="Responses">
      {candidates.slice(0, 2).map((c, i) => {
        const letter = LETTERS[i]!;
        const chosen = choice === letter.toLowerCase() || choice === "tie";
        return <ResponseCard key={c.id} title={`Response ${letter}`} text={c.text} candidateId={c.id} highlighted={chosen} />;
      })}
    </section>
  );
}

interface PairwiseControlsProps {
  choice: Choice | null;
  strength: Strength;
  onChoice: (choice: Choice) => void;
  onStrength: (strength: Strength) => void;
  /** Show the keyboard keys on the buttons (only where the keys work: the labeling screen). */
  keyHints?: boolean;
}

/** Which response is better, and by how much. */
export function PairwiseControls({ choice, strength, onChoice, onStrength, keyHints = true }: PairwiseControlsProps) {
  const hint = (key: string) => (keyHints ? { hint: key } : {});
  return (
    <div className={styles.pairControls}>
      <Segmented<Choice>
        name="choice"
        legend="Which response is better?"
        hideLegend
        size="lg"
        value={choice}
        onChange={onChoice}
        options={[
          { value: "a", label: "A is better", ...hint("a") },
          { value: "tie", label: "Tie", ...hint("t") },
          { value: "b", label: "B is better", ...hint("b") },
        ]}
      />
      <Segmented<Strength>
        name="strength"
        legend="By how much?"
        hideLegend
        value={choice === "tie" ? null : strength}
        onChange={onStrength}
        disabled={choice === "tie"}
        options={([1, 2, 3] as Strength[]).map((s) => ({ value: s, label: STRENGTH_LABELS[s], ...hint(String(s)) }))}
      />
    </div>
  );
}
