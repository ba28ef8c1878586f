import { useQuery } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { api, unwrap } from "../../client/api";
import type { Project, ReviewItem } from "../../client/types";
import { reviewItemKey } from "../../routes/queries";
import { answerToDraft, letterAt, type AnswerDraft } from "../../quality/answers";
import { formatMetric } from "../../quality/format";
import { useReviewActions } from "../../quality/useReviewActions";
import { PromptPanel } from "../Annotation/PromptPanel";
import { ResponseCard } from "../Annotation/ResponseCard";
import { ErrorNotice } from "../ui/ErrorNotice";
import { AdjudicationForm } from "./AdjudicationForm";
import { LabelAnswers } from "./LabelAnswers";
import styles from "./Quality.module.css";

interface ReviewItemPanelProps {
  project: Project;
  itemId: number;
  canManage: boolean;
  /** Move focus to the item once it is shown (after picking it from the queue). */
  autoFocus?: boolean;
  /** Go on to the next item of the queue (absent when there is none). */
  onNext?: (() => void) | undefined;
}

/** One item under review: the prompt, its responses, every answer, and the decision form. */
export function ReviewItemPanel({ project, itemId, canManage, autoFocus = false, onNext }: ReviewItemPanelProps) {
  const query = useQuery({
    queryKey: reviewItemKey(project.id, itemId),
    queryFn: () =>
      unwrap(
        api.GET("/api/projects/{project_id}/review/items/{item_id}", {
          params: { path: { project_id: project.id, item_id: itemId } },
        }),
      ),
  });
  if (query.isError) return <ErrorNotice error={query.error} />;
  if (!query.data) return <p className="muted" role="status">Loading item…</p>;
  return <ReviewItemView key={itemId} project={project} item={query.data} canManage={canManage} autoFocus={autoFocus} onNext={onNext} />;
}

interface ReviewItemViewProps {
  project: Project;
  item: ReviewItem;
  canManage: boolean;
  autoFocus: boolean;
  onNext: (() => void) | undefined;
}

function ReviewItemView({ project, item, canManage, autoFocus, onNext }: ReviewItemViewProps) {
  const kind = project.task_kind;
  const candidateIds = item.candidates.map((c) => c.id);
  const actions = useReviewActions(project.id, item.item_id);
  const [draft, setDraft] = useState<AnswerDraft>(() =>
    answerToDraft(kind, item.adjudication?.answer ?? null, candidateIds),
  );
  const headingRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (autoFocus) headingRef.current?.focus();
  }, [autoFocus]);
  return (
    <article className={styles.detail} aria-labelledby="review-item-heading" data-item-id={item.item_id}>
      <header className={styles.detailHeader}>
        <h2 id="review-item-heading" ref={headingRef} tabIndex={-1}>Item #{item.item_id}</h2>
        <span className="muted">
          agreement <strong>{formatMetric(item.agreement)}</strong> · {item.labels.length} labels
        </span>
        {item.is_gold ? <span className="badge badge-ok">gold</span> : null}
        {item.adjudication ? <span className="badge">decided</span> : null}
        {onNext ? (
          <button type="button" className={`btn btn-quiet ${styles.next}`} onClick={onNext}>
            Next item →
          </button>
        ) : null}
      </header>
      <PromptPanel prompt={{ id: item.prompt_id, text: item.prompt_text, messages: item.prompt_messages }} />
      <section className={styles.candidates} aria-label="Responses">
        {item.candidates.map((c, i) => (
          <ResponseCard key={c.id} title={`Response ${letterAt(i)}`} text={c.text} candidateId={c.id} />
        ))}
      </section>
      <section aria-labelledby="answers-heading">
        <h2 id="answers-heading">Answers</h2>
        <LabelAnswers
          kind={kind}
          labels={item.labels}
          candidateIds={candidateIds}
          criteria={project.criteria}
          onUse={(answer) => setDraft(answerToDraft(kind, answer, candidateIds))}
        />
      </section>
      <AdjudicationForm
        kind={kind}
        item={item}
        criteria={project.criteria}
        draft={draft}
        onDraft={setDraft}
        actions={actions}
        canManage={canManage}
      />
    </article>
  );
}
