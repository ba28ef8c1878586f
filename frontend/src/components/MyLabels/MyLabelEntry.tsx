import { useQuery } from "@tanstack/react-query";
import type { Ref } from "react";
import { answerInWords, flagNames } from "../../annotation/myLabels";
import { api, unwrap } from "../../client/api";
import type { ItemView, LabelRead, Project } from "../../client/types";
import { formatDateTime } from "../../lib/format";
import { letterAt } from "../../quality/answers";
import { assignmentKey } from "../../routes/queries";
import { toTurns } from "../Annotation/PromptPanel";
import { Markdown } from "../Markdown/Markdown";
import { ErrorNotice } from "../ui/ErrorNotice";
import styles from "./MyLabels.module.css";

/** The assignment behind a label: its item (prompt and responses in display order) and my label. */
export function useLabelAssignment(assignmentId: number) {
  return useQuery({
    queryKey: assignmentKey(assignmentId),
    queryFn: () =>
      unwrap(api.GET("/api/assignments/{assignment_id}", { params: { path: { assignment_id: assignmentId } } })),
    staleTime: 5 * 60_000,
  });
}

interface MyLabelEntryProps {
  project: Project;
  label: LabelRead;
  selected: boolean;
  onSelect: () => void;
  onEdit: () => void;
  entryRef: Ref<HTMLElement>;
}

/** One of my labels: the item as I saw it (shortened), my answer in words, and Edit. */
export function MyLabelEntry({ project, label, selected, onSelect, onEdit, entryRef }: MyLabelEntryProps) {
  const assignment = useLabelAssignment(label.assignment_id);
  const item = assignment.data?.item;
  const headingId = `my-label-${label.id}`;
  const edited = label.updated_at !== label.created_at;
  return (
    <li>
      <article
        ref={entryRef}
        className={`${styles.entry} ${selected ? styles.entrySelected : ""}`}
        tabIndex={selected ? 0 : -1}
        aria-labelledby={headingId}
        aria-current={selected ? "true" : undefined}
        data-label-id={label.id}
        data-item-id={label.item_id}
        onFocus={onSelect}
        onClick={onSelect}
      >
        <header className={styles.entryHeader}>
          <h2 id={headingId} className={styles.entryTitle}>
            Item #{label.item_id}
          </h2>
          <span className="muted small">
            labeled {formatDateTime(label.created_at)}
            {edited ? ` · edited ${formatDateTime(label.updated_at)}` : ""}
          </span>
          <button
            type="button"
            className={`btn ${styles.editButton}`}
            onClick={(e) => {
              e.stopPropagation();
              onEdit();
            }}
            aria-label={`Edit my label for item #${label.item_id}`}
          >
            Edit {selected ? <kbd>e</kbd> : null}
          </button>
        </header>
        <p className={styles.answer}>
          <span className={styles.answerLabel}>My answer</span>{" "}
          <strong data-testid="my-answer">
            {item
              ? answerInWords(
                  project.task_kind,
                  label.answer,
                  item.candidates.map((c) => c.id),
                  project.criteria,
                )
              : "…"}
          </strong>
          {flagNames(label.flags).map((f) => (
            <span key={f} className="badge">
              {f}
            </span>
          ))}
        </p>
        {label.rationale ? (
          <p className={styles.rationale}>
            <span className={styles.answerLabel}>Rationale</span> {label.rationale}
          </p>
        ) : null}
        {assignment.isError ? <ErrorNotice error={assignment.error} title="The item could not be loaded" /> : null}
        {item ? (
          <ItemPreview item={item} kind={project.task_kind} choice={choiceOf(label)} />
        ) : assignment.isPending ? (
          <p className={styles.placeholder} role="status">
            Loading the item…
          </p>
        ) : null}
      </article>
    </li>
  );
}

/** The pairwise choice of a label ("a", "b", "tie"), to mark the chosen response. */
function choiceOf(label: LabelRead): string | null {
  const choice = label.answer?.choice;
  return typeof choice === "string" ? choice : null;
}

/** The prompt and the responses, each cut to a few lines (the editor shows them in full). */
function ItemPreview({ item, kind, choice }: { item: ItemView; kind: Project["task_kind"]; choice: string | null }) {
  const turns = item.prompt.messages?.length ? toTurns(item.prompt.messages) : null;
  return (
    <div className={styles.preview}>
      <div className={styles.previewPrompt}>
        <span className={styles.previewLabel}>Prompt</span>
        <div className={styles.clamp}>
          {turns ? (
            turns.map((turn, i) => (
              <div key={i} className={styles.previewTurn}>
                <span className={styles.previewRole}>{turn.role}</span>
                <Markdown>{turn.content}</Markdown>
              </div>
            ))
          ) : (
            <Markdown>{item.prompt.text ?? ""}</Markdown>
          )}
        </div>
      </div>
      <div className={styles.previewResponses}>
        {item.candidates.map((c, i) => {
          const letter = letterAt(i);
          const chosen = kind === "pairwise" && (choice === letter.toLowerCase() || choice === "tie");
          return (
            <div key={c.id} className={`${styles.previewResponse} ${chosen ? styles.previewChosen : ""}`}>
              <span className={styles.previewLabel}>
                {kind === "rating" ? "Response" : `Response ${letter}`}
                {chosen ? <span className="visually-hidden"> (chosen)</span> : null}
              </span>
              <div className={styles.clamp}>
                <Markdown>{c.text}</Markdown>
              </div>
            </div>
          );
        })}
      </div>
    </div>
  );
}
