import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useState } from "react";
import { Link, useParams } from "react-router";
import { PAIRWISE_KEYS } from "../annotation/pairwise";
import { useAssignmentQueue, useMyProgress } from "../annotation/useAssignmentQueue";
import { useLease, type LeaseClock } from "../annotation/useLease";
import { api, unwrap } from "../client/api";
import type { LabelSubmit, Project } from "../client/types";
import styles from "../components/Annotation/Annotation.module.css";
import { GuidelinesPanel } from "../components/Annotation/GuidelinesPanel";
import { LabelForm } from "../components/Annotation/LabelForm";
import { RANKING_KEYS } from "../components/Annotation/RankingTask";
import { ShortcutsDialog, type Shortcut } from "../components/Annotation/ShortcutsDialog";
import { KIND_NAMES, TaskHeader } from "../components/Annotation/TaskHeader";
import { ErrorNotice } from "../components/ui/ErrorNotice";
import { hasModifier, isTypingTarget } from "../lib/keys";
import { useDocumentTitle } from "../lib/useDocumentTitle";
import { useWindowKeydown } from "../lib/useWindowKeydown";
import { myLabelsKey, projectKey } from "./queries";

const RATING_KEYS: Shortcut[] = [
  { keys: ["Tab"], what: "Next criterion" },
  { keys: ["0…9"], what: "Score the highlighted criterion (then move to the next)" },
  { keys: ["←", "→"], what: "Change the score of the focused criterion" },
];

function taskKeys(kind: Project["task_kind"]): Shortcut[] {
  if (kind === "pairwise") return PAIRWISE_KEYS;
  if (kind === "ranking") return RANKING_KEYS;
  return RATING_KEYS;
}

export function LabelPage() {
  const projectId = Number(useParams().projectId);
  const project = useQuery({
    queryKey: projectKey(projectId),
    queryFn: () => unwrap(api.GET("/api/projects/{project_id}", { params: { path: { project_id: projectId } } })),
  });
  if (project.isPending) return <p className="page-loading" role="status">Loading project…</p>;
  if (project.isError) return <ErrorNotice error={project.error} />;
  return <LabelScreen key={projectId} project={project.data} />;
}

function LabelScreen({ project }: { project: Project }) {
  const queue = useAssignmentQueue(project.id);
  const queryClient = useQueryClient();
  const [guidelinesOpen, setGuidelinesOpen] = useState(false);
  const [shortcutsOpen, setShortcutsOpen] = useState(false);
  const [notice, setNotice] = useState("");
  const progress = useMyProgress(project.id);

  useDocumentTitle(`Labeling: ${project.name}`);

  const state = queue.state;
  const current = state.status === "ready" ? state.current : null;
  const lease = useLease(current, project.lease_seconds, queue.extend, setNotice);

  useWindowKeydown((e) => {
    if (e.defaultPrevented || isTypingTarget(e.target) || hasModifier(e)) return;
    if (e.key === "?") {
      e.preventDefault();
      setShortcutsOpen((v) => !v);
    } else if (e.key === "g" && !document.querySelector("dialog[open]")) {
      e.preventDefault();
      setGuidelinesOpen((v) => !v);
    } else if (e.key === "e" && lease && !document.querySelector("dialog[open]")) {
      e.preventDefault();
      if (!lease.expired) lease.extend();
    }
  });

  const submit = useCallback(
    async (body: LabelSubmit) => {
      await queue.submit(body);
      void queryClient.invalidateQueries({ queryKey: myLabelsKey(project.id) });
      setNotice("Saved. Next item.");
    },
    [project.id, queryClient, queue],
  );
  const skip = useCallback(async () => {
    await queue.skip(null);
    setNotice("Skipped. Next item.");
  }, [queue]);

  return (
    <div className={styles.labelPage}>
      <TaskHeader
        project={project}
        progress={progress.data}
        lease={lease}
        itemId={current ? current.assignment.item.id : null}
        onGuidelines={() => setGuidelinesOpen((v) => !v)}
        onShortcuts={() => setShortcutsOpen(true)}
      />
      <p className="visually-hidden" role="status" aria-live="polite">
        {notice}
      </p>
      {state.status === "loading" ? (
        <p className="page-loading" role="status">
          Finding your next item…
        </p>
      ) : null}
      {state.status === "error" ? (
        <div className={styles.doneBox}>
          <p role="alert" className="error-text">
            {state.message}
          </p>
          <button type="button" className="btn btn-primary" onClick={() => void queue.reload()}>
            Try again
          </button>
        </div>
      ) : null}
      {state.status === "done" ? (
        <div className={styles.doneBox} role="status">
          <h2>All done here</h2>
          <p>
            There is nothing left for you to label in this project right now
            {progress.data ? ` — you labeled ${progress.data.labels_today} items today` : ""}. Thank you!
          </p>
          <p>
            <Link to="/" className="btn btn-primary">
              Back to my projects
            </Link>{" "}
            <button type="button" className="btn" onClick={() => void queue.reload()}>
              Check again
            </button>
          </p>
        </div>
      ) : null}
      {current ? (
        <LabelForm
          key={current.assignment.id}
          project={project}
          assignment={current.assignment}
          onSubmit={submit}
          onSkip={skip}
          onDiscard={queue.discard}
          notice={lease ? <LeaseNotice lease={lease} /> : null}
        />
      ) : null}
      <GuidelinesPanel open={guidelinesOpen} guidelines={project.guidelines} onClose={() => setGuidelinesOpen(false)} />
      <ShortcutsDialog
        open={shortcutsOpen}
        onClose={() => setShortcutsOpen(false)}
        taskTitle={KIND_NAMES[project.task_kind]}
        taskKeys={taskKeys(project.task_kind)}
      />
    </div>
  );
}

/** What the annotator must know about the lease, in words, inside the action bar (empty when all is well). */
function LeaseNotice({ lease }: { lease: LeaseClock }) {
  let content = null;
  if (lease.expired) {
    content = (
      <>
        <strong>Your reservation expired;</strong> you can still submit while the item has room. Your input is kept.
      </>
    );
  } else if (lease.problem) {
    content = <strong>{lease.problem}</strong>;
  } else if (lease.low) {
    content = (
      <>
        <strong>Little time left on this item.</strong> Press <kbd>e</kbd> to keep it reserved for you.
      </>
    );
  }
  return (
    <p
      className={`${styles.leaseNotice} ${lease.expired || lease.problem ? styles.leaseNoticeExpired : ""}`}
      role="status"
      data-testid="lease-notice"
    >
      {content}
    </p>
  );
}
