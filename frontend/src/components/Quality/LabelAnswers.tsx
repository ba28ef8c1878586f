import type { Answer, Criterion, ReviewLabel, TaskKind } from "../../client/types";
import { formatDateTime, formatMs } from "../../lib/format";
import { formatAnswer } from "../../quality/answers";
import { Markdown } from "../Markdown/Markdown";
import styles from "./Quality.module.css";

interface LabelAnswersProps {
  kind: TaskKind;
  labels: ReviewLabel[];
  candidateIds: number[];
  criteria: Criterion[];
  /** Start the decision from this annotator's answer. */
  onUse: (answer: Answer) => void;
}

/** Every annotator's answer in words, with flags, time, rationale and rewrite. */
export function LabelAnswers({ kind, labels, candidateIds, criteria, onUse }: LabelAnswersProps) {
  if (labels.length === 0) return <p className="muted">No labels yet.</p>;
  return (
    <ul className={styles.labels} aria-label="Annotators’ answers">
      {labels.map((l) => {
        const answer = l.answer;
        return (
          <li key={l.label_id} className={styles.label} data-label-user={l.username}>
            <span className={styles.labelWho}>{l.username}</span>
            <span className={styles.labelBody}>
              <span className={styles.labelAnswer}>{formatAnswer(kind, l.answer, candidateIds, criteria)}</span>
              {l.flags.map((f) => (
                <span key={f} className="badge">
                  {f.replace(/_/g, " ")}
                </span>
              ))}
              <span className="muted small">
                {" "}
                · {formatMs(l.time_spent_ms)} · {formatDateTime(l.created_at)}
              </span>
            </span>
            {answer ? (
              <button
                type="button"
                className={`btn btn-quiet ${styles.labelUse}`}
                onClick={() => onUse(answer)}
                aria-label={`Use this answer (${l.username})`}
              >
                Use this answer
              </button>
            ) : null}
            {l.rationale ? (
              <div className={styles.labelExtra}>
                <span className="muted small">Rationale</span>
                <p className={styles.quote}>{l.rationale}</p>
              </div>
            ) : null}
            {l.rewrite ? (
              <details className={styles.labelExtra}>
                <summary>Rewritten response</summary>
                <div className={styles.quote}>
                  <Markdown>{l.rewrite}</Markdown>
                </div>
              </details>
            ) : null}
          </li>
        );
      })}
    </ul>
  );
}
