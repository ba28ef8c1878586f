import { useState, type FormEvent } from "react";
import { errorMessage } from "../../client/errors";
import type { Criterion, ReviewItem, TaskKind } from "../../client/types";
import { formatDateTime } from "../../lib/format";
import { buildAnswer, formatAnswer, type AnswerDraft } from "../../quality/answers";
import type { ReviewActions } from "../../quality/useReviewActions";
import { AnswerEditor } from "./AnswerEditor";
import styles from "./Quality.module.css";

interface AdjudicationFormProps {
  kind: TaskKind;
  item: ReviewItem;
  criteria: Criterion[];
  draft: AnswerDraft;
  onDraft: (draft: AnswerDraft) => void;
  actions: ReviewActions;
  canManage: boolean;
}

type Status = { kind: "ok" | "error"; message: string } | null;

/** The reviewer's decision for one item (it wins over the annotators in later snapshots), or its gold answer. */
export function AdjudicationForm({ kind, item, criteria, draft, onDraft, actions, canManage }: AdjudicationFormProps) {
  const [note, setNote] = useState(item.adjudication?.note ?? "");
  const [status, setStatus] = useState<Status>(null);
  const candidateIds = item.candidates.map((c) => c.id);
  const busy = actions.adjudicate.isPending || actions.withdraw.isPending || actions.markGold.isPending || actions.unmarkGold.isPending;

  const run = async (what: () => Promise<unknown>, done: string) => {
    setStatus(null);
    try {
      await what();
      setStatus({ kind: "ok", message: done });
    } catch (err) {
      setStatus({ kind: "error", message: errorMessage(err) });
    }
  };
  const withAnswer = (then: (answer: Record<string, unknown>) => Promise<unknown>, done: string) => {
    const built = buildAnswer(kind, draft, candidateIds, criteria);
    if (!built.ok) {
      setStatus({ kind: "error", message: built.problem });
      return;
    }
    void run(() => then(built.answer), done);
  };
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    withAnswer((answer) => actions.adjudicate.mutateAsync({ answer, note: note.trim() || null }), "Decision saved.");
  };

  return (
    <form className={`card ${styles.decisionForm}`} onSubmit={onSubmit} aria-labelledby="decision-heading" noValidate>
      <h2 id="decision-heading">Decision</h2>
      {item.adjudication ? (
        <p className={styles.current} data-testid="current-decision">
          Decided: <strong>{formatAnswer(kind, item.adjudication.answer, candidateIds, criteria)}</strong>
          <span className="muted small"> · {formatDateTime(item.adjudication.updated_at)}</span>
          {item.adjudication.note ? <span className="muted small"> · “{item.adjudication.note}”</span> : null}
        </p>
      ) : (
        <p className="help">Your answer replaces the annotators’ for this item in every later snapshot.</p>
      )}
      {item.is_gold ? (
        <p className={styles.current}>
          Gold answer: <strong>{formatAnswer(kind, item.gold_answer, candidateIds, criteria)}</strong>
        </p>
      ) : null}
      <AnswerEditor kind={kind} draft={draft} onChange={onDraft} candidates={item.candidates} criteria={criteria} />
      <div className="field" style={{ marginBottom: 0 }}>
        <label htmlFor="decision-note">Note (optional)</label>
        <textarea id="decision-note" rows={2} value={note} onChange={(e) => setNote(e.target.value)} maxLength={2000} />
      </div>
      <div className={styles.formActions}>
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {item.adjudication ? "Update decision" : "Save decision"}
        </button>
        {item.adjudication ? (
          <button
            type="button"
            className="btn btn-danger-text"
            disabled={busy}
            onClick={() => void run(() => actions.withdraw.mutateAsync(), "Decision withdrawn.")}
          >
            Withdraw decision
          </button>
        ) : null}
        {canManage ? (
          <button
            type="button"
            className="btn"
            disabled={busy}
            onClick={() => withAnswer((answer) => actions.markGold.mutateAsync(answer), "Marked as gold.")}
          >
            {item.is_gold ? "Change the gold answer to this" : "Mark as gold with this answer"}
          </button>
        ) : null}
        {canManage && item.is_gold ? (
          <button
            type="button"
            className="btn btn-quiet"
            disabled={busy}
            onClick={() => void run(() => actions.unmarkGold.mutateAsync(), "No longer gold.")}
          >
            Unmark gold
          </button>
        ) : null}
      </div>
      <div className="live-region" aria-live="polite">
        {status ? (
          <p role={status.kind === "error" ? "alert" : "status"} className={status.kind === "error" ? "error-box" : "success-box"}>
            {status.message}
          </p>
        ) : null}
      </div>
    </form>
  );
}
