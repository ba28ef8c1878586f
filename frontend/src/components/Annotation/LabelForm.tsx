import { useCallback, useEffect, useRef, useState, type FormEvent, type ReactNode } from "react";
import { buildSubmit, emptyDraft, toggleFlag, type Draft } from "../../annotation/draft";
import { forgetDraft, loadDraft, saveDraft } from "../../annotation/draftStore";
import { pairwiseKeyAction } from "../../annotation/pairwise";
import { ApiError, errorMessage } from "../../client/errors";
import type { Assignment, LabelSubmit, Project } from "../../client/types";
import { hasModifier, isNativeControl, isTypingTarget } from "../../lib/keys";
import { useWindowKeydown } from "../../lib/useWindowKeydown";
import styles from "./Annotation.module.css";
import { DetailsPanel } from "./DetailsPanel";
import { PairwiseControls, PairwiseResponses } from "./PairwiseTask";
import { PromptPanel } from "./PromptPanel";
import { RankingTask } from "./RankingTask";
import { RatingControls, scoreForDigit } from "./RatingTask";
import { ResponseCard } from "./ResponseCard";

type Status =
  | { kind: "idle"; message: string }
  | { kind: "busy"; message: string }
  | { kind: "error"; message: string; canMoveOn: boolean };

interface CommonProps {
  project: Project;
  assignment: Assignment;
  onSubmit: (body: LabelSubmit) => Promise<void>;
  /** Keys are ignored while a modal (e.g. the shortcuts list) is open. */
  keysEnabled?: boolean;
  /** Start from this input (editing a stored label) instead of a saved draft or an empty form. */
  initialDraft?: Draft;
  /** Shown at the top of the action bar (e.g. the lease's state); it grows the bar, never moves the item. */
  notice?: ReactNode;
}

/** Labeling from the queue: Skip, and "move on" when the item is gone. Drafts survive a reload. */
interface QueueProps extends CommonProps {
  onSkip: () => Promise<void>;
  onDiscard: () => Promise<void>;
  onCancel?: never;
}

/** Editing a label I gave: Save or Cancel (Esc); no skipping, no draft kept, the labeling time is left as it was. */
interface EditProps extends CommonProps {
  onCancel: () => void;
  onSkip?: never;
  onDiscard?: never;
}

export type LabelFormProps = QueueProps | EditProps;

const IDLE_HINTS: Record<Project["task_kind"], string> = {
  pairwise: "",
  ranking: "Best first: k/j move the focused response, t ties it with the one above. ? lists all keys.",
  rating: "Digits score the highlighted criterion. ? lists all keys.",
};

function modalOpen(): boolean {
  return document.querySelector("dialog[open]") !== null;
}

/**
 * One item to label: prompt, responses, the task's controls, optional details and the action bar.
 * Mounted once per assignment (keyed by id), so a failed submit keeps everything that was entered.
 * The same form edits a stored label (pass onCancel and the label as initialDraft).
 */
export function LabelForm(props: LabelFormProps) {
  const { project, assignment, onSubmit, keysEnabled = true, initialDraft, notice } = props;
  const editing = props.onCancel !== undefined;
  const item = assignment.item;
  const kind = project.task_kind;
  const [draft, setDraft] = useState<Draft>(
    () => initialDraft ?? (editing ? null : loadDraft(assignment.id)) ?? emptyDraft(item),
  );
  const [status, setStatus] = useState<Status>({ kind: "idle", message: "" });
  const [rewriteOpen, setRewriteOpen] = useState(() => draft.rewrite !== "");
  const [activeCriterion, setActiveCriterion] = useState(0);
  const [shownAt] = useState(() => performance.now());
  const busy = useRef(false);
  const rationaleRef = useRef<HTMLTextAreaElement>(null);
  const rewriteRef = useRef<HTMLTextAreaElement>(null);
  const topRef = useRef<HTMLDivElement>(null);

  const pristine = useRef(true);
  useEffect(() => {
    if (pristine.current) {
      pristine.current = false;
      return;
    }
    if (!editing) saveDraft(assignment.id, draft);
  }, [assignment.id, draft, editing]);

  const update = useCallback((patch: Partial<Draft>) => setDraft((d) => ({ ...d, ...patch })), []);
  const announce = useCallback((message: string) => setStatus({ kind: "idle", message }), []);

  // A new item starts at the top, with focus where the keys act on it.
  useEffect(() => {
    window.scrollTo({ top: 0 });
    if (kind === "ranking") document.querySelector<HTMLElement>('[data-position="1"]')?.focus();
    else topRef.current?.focus({ preventScroll: true });
  }, [kind]);

  const run = async (what: "submit" | "skip" | "discard") => {
    if (busy.current) return;
    let body: LabelSubmit | null = null;
    if (what === "submit") {
      // An edit keeps the time the label first took (null leaves it as stored).
      const built = buildSubmit(kind, draft, project.criteria, editing ? null : performance.now() - shownAt);
      if (!built.ok) {
        setStatus({ kind: "error", message: built.problem, canMoveOn: false });
        return;
      }
      body = built.body;
    }
    busy.current = true;
    setStatus({ kind: "busy", message: what === "submit" ? "Saving…" : "Skipping…" });
    try {
      if (what === "submit" && body) await onSubmit(body);
      else if (what === "skip") await props.onSkip?.();
      else await props.onDiscard?.();
      if (!editing) forgetDraft(assignment.id);
    } catch (err) {
      const gone = err instanceof ApiError && (err.status === 409 || err.status === 404);
      const prefix = what === "submit" ? "Not saved" : "Not skipped";
      setStatus({ kind: "error", message: `${prefix}: ${errorMessage(err)}`, canMoveOn: gone });
    } finally {
      busy.current = false;
    }
  };

  const onFormSubmit = (e: FormEvent) => {
    e.preventDefault();
    void run("submit");
  };

  useWindowKeydown((e) => {
    if (e.defaultPrevented || modalOpen()) return;
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      void run("submit");
      return;
    }
    if (isTypingTarget(e.target)) {
      if (e.key === "Escape") (e.target as HTMLElement).blur();
      return;
    }
    if (hasModifier(e)) return;
    if (e.key === "Escape" && props.onCancel) {
      e.preventDefault();
      props.onCancel();
      return;
    }
    if (e.key === "Enter") {
      const t = e.target as HTMLElement;
      if (t instanceof HTMLButtonElement || t instanceof HTMLAnchorElement || t.tagName === "SUMMARY") return;
      e.preventDefault();
      void run("submit");
      return;
    }
    if (handleCommonKey(e.key)) {
      e.preventDefault();
      return;
    }
    if (handleTaskKey(e)) e.preventDefault();
  }, keysEnabled);

  function handleCommonKey(key: string): boolean {
    switch (key) {
      case "s":
        if (editing) return false;
        void run("skip");
        return true;
      case "u":
        update({ flags: toggleFlag(draft.flags, "unusable") });
        return true;
      case "x":
        update({ flags: toggleFlag(draft.flags, "unsafe") });
        return true;
      case "r":
        rationaleRef.current?.focus();
        return true;
      case "w":
        setRewriteOpen(true);
        requestAnimationFrame(() => rewriteRef.current?.focus());
        return true;
      default:
        return false;
    }
  }

  function handleTaskKey(e: KeyboardEvent): boolean {
    const digit = /^[0-9]$/.test(e.key) ? Number(e.key) : null;
    if (kind === "pairwise") {
      if (e.key.startsWith("Arrow") && isNativeControl(e.target)) return false;
      const action = pairwiseKeyAction(e.key);
      if (!action) return false;
      if (action.kind === "choice") update({ choice: action.choice });
      else update({ strength: action.strength });
      return true;
    }
    if (kind === "ranking" && digit !== null && digit > 0) {
      document.querySelector<HTMLElement>(`[data-position="${digit}"]`)?.focus();
      return true;
    }
    if (kind === "rating" && digit !== null) {
      const criterion = project.criteria[activeCriterion];
      if (!criterion) return false;
      const value = scoreForDigit(criterion, digit);
      if (value === null) return false;
      update({ scores: { ...draft.scores, [criterion.name]: value } });
      if (activeCriterion < project.criteria.length - 1) setActiveCriterion(activeCriterion + 1);
      return true;
    }
    return false;
  }

  const taskArea = () => {
    if (kind === "pairwise") return <PairwiseResponses candidates={item.candidates} choice={draft.choice} />;
    if (kind === "ranking")
      return (
        <RankingTask
          candidates={item.candidates}
          tiers={draft.tiers}
          onChange={(tiers) => update({ tiers })}
          announce={announce}
        />
      );
    const candidate = item.candidates[0];
    return (
      <div className={styles.ratingLayout}>
        {candidate ? <ResponseCard title="Response" text={candidate.text} candidateId={candidate.id} /> : null}
        <RatingControls
          criteria={project.criteria}
          scores={draft.scores}
          active={activeCriterion}
          onActivate={setActiveCriterion}
          onScore={(name, value) => update({ scores: { ...draft.scores, [name]: value } })}
        />
      </div>
    );
  };

  return (
    <form className={styles.form} onSubmit={onFormSubmit} noValidate aria-label="Label this item">
      <div ref={topRef} tabIndex={-1} className={styles.itemTop} data-item-id={item.id} data-assignment-id={assignment.id}>
        <PromptPanel prompt={item.prompt} />
        {taskArea()}
        <DetailsPanel
          flags={draft.flags}
          rationale={draft.rationale}
          rewrite={draft.rewrite}
          rewriteOpen={rewriteOpen}
          onFlags={(flags) => update({ flags })}
          onRationale={(rationale) => update({ rationale })}
          onRewrite={(rewrite) => update({ rewrite })}
          onRewriteOpen={setRewriteOpen}
          rationaleRef={rationaleRef}
          rewriteRef={rewriteRef}
        />
      </div>
      <div className={styles.actionBar}>
        {notice}
        {status.kind === "error" ? (
          <div role="alert" className={styles.statusError}>
            <strong>{status.message}</strong>{" "}
            {status.canMoveOn && props.onCancel ? (
              <button type="button" className="btn btn-link" onClick={props.onCancel}>
                Close without saving
              </button>
            ) : status.canMoveOn ? (
              <button type="button" className="btn btn-link" onClick={() => void run("discard")}>
                Move on to the next item
              </button>
            ) : (
              <span className={styles.retryHint}>Your input is kept; press Enter to try again.</span>
            )}
          </div>
        ) : null}
        <div className={styles.actionInner}>
          {kind === "pairwise" ? (
            <PairwiseControls
              choice={draft.choice}
              strength={draft.strength}
              onChoice={(choice) => update({ choice })}
              onStrength={(strength) => update({ strength })}
            />
          ) : null}
          <div className={styles.statusLine}>
            <p role="status" aria-live="polite" className={styles.statusInfo}>
              {status.kind === "error" ? "" : status.message}
            </p>
            {status.kind === "idle" && !status.message && IDLE_HINTS[kind] ? (
              <p className={styles.statusInfo}>{IDLE_HINTS[kind]}</p>
            ) : null}
          </div>
          <div className={styles.actions}>
            {props.onCancel ? (
              <button type="button" className="btn" onClick={props.onCancel} disabled={status.kind === "busy"}>
                Cancel <kbd>Esc</kbd>
              </button>
            ) : (
              <button type="button" className="btn" onClick={() => void run("skip")} disabled={status.kind === "busy"}>
                Skip <kbd>s</kbd>
              </button>
            )}
            <button type="submit" className="btn btn-primary" disabled={status.kind === "busy"}>
              {editing ? "Save changes" : "Submit"} <kbd>Enter</kbd>
            </button>
          </div>
        </div>
      </div>
    </form>
  );
}
