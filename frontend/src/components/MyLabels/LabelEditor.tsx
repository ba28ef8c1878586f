import { useQueryClient, type InfiniteData } from "@tanstack/react-query";
import { useCallback, useMemo } from "react";
import { answerInWords, draftFromLabel } from "../../annotation/myLabels";
import { api, unwrap } from "../../client/api";
import { ApiError } from "../../client/errors";
import type { Assignment, LabelList, LabelRead, LabelSubmit, Project } from "../../client/types";
import { assignmentKey, myLabelsKey } from "../../routes/queries";
import annotation from "../Annotation/Annotation.module.css";
import { LabelForm } from "../Annotation/LabelForm";
import { ErrorNotice } from "../ui/ErrorNotice";
import { useLabelAssignment } from "./MyLabelEntry";
import styles from "./MyLabels.module.css";

export const COMPLETE_MESSAGE = "This item is complete; its labels are final.";

type LabelPages = InfiniteData<LabelList, number>;

/** Store an edited label (PATCH); a 409 means the item has all its labels, said in the annotator's words. */
export async function saveLabel(labelId: number, body: LabelSubmit): Promise<LabelRead> {
  try {
    return await unwrap(api.PATCH("/api/labels/{label_id}", { params: { path: { label_id: labelId } }, body }));
  } catch (err) {
    if (err instanceof ApiError && err.status === 409) throw new ApiError(409, COMPLETE_MESSAGE, err.code);
    throw err;
  }
}

interface LabelEditorProps {
  project: Project;
  label: LabelRead;
  onClose: () => void;
  onSaved: (label: LabelRead) => void;
}

/** The labeling screen's form, prefilled with my label, saving with PATCH. */
export function LabelEditor({ project, label, onClose, onSaved }: LabelEditorProps) {
  const assignment = useLabelAssignment(label.assignment_id);
  const queryClient = useQueryClient();

  const save = useCallback(
    async (body: LabelSubmit) => {
      const saved = await saveLabel(label.id, body);
      queryClient.setQueryData<LabelPages>(myLabelsKey(project.id), (data) =>
        data
          ? { ...data, pages: data.pages.map((p) => ({ ...p, items: p.items.map((l) => (l.id === saved.id ? saved : l)) })) }
          : data,
      );
      queryClient.setQueryData<Assignment>(assignmentKey(label.assignment_id), (a) => (a ? { ...a, label: saved } : a));
      onSaved(saved);
    },
    [label.assignment_id, label.id, onSaved, project.id, queryClient],
  );

  const item = assignment.data?.item;
  return (
    <div className={annotation.labelPage}>
      <div className={annotation.taskHeader}>
        <div className={annotation.taskTitle}>
          <button type="button" className={`${annotation.back} ${styles.backButton}`} onClick={onClose}>
            ← My labels
          </button>
          <h1>Edit my label</h1>
          <span className={annotation.kind}>
            {project.name} · item #{label.item_id}
          </span>
        </div>
        <div className={annotation.taskStats}>
          <span className={annotation.stat}>
            <span className={annotation.statLabel}>Saved answer</span>
            <span className={annotation.statValue} data-testid="saved-answer">
              {item
                ? answerInWords(
                    project.task_kind,
                    label.answer,
                    item.candidates.map((c) => c.id),
                    project.criteria,
                  )
                : "…"}
            </span>
          </span>
        </div>
      </div>
      {assignment.isPending ? (
        <p className="page-loading" role="status">
          Loading the item…
        </p>
      ) : null}
      {assignment.isError ? <ErrorNotice error={assignment.error} title="The item could not be loaded" /> : null}
      {assignment.data ? (
        <EditForm project={project} assignment={assignment.data} label={label} onSubmit={save} onCancel={onClose} />
      ) : null}
    </div>
  );
}

function EditForm(props: {
  project: Project;
  assignment: Assignment;
  label: LabelRead;
  onSubmit: (body: LabelSubmit) => Promise<void>;
  onCancel: () => void;
}) {
  const { project, assignment, label } = props;
  // The form reads its input once, when it mounts: from the label as it was when the editor opened.
  const initial = useMemo(() => draftFromLabel(project.task_kind, assignment.item, label), [assignment.item, label, project.task_kind]);
  return (
    <LabelForm
      key={label.id}
      project={project}
      assignment={assignment}
      initialDraft={initial}
      onSubmit={props.onSubmit}
      onCancel={props.onCancel}
    />
  );
}
