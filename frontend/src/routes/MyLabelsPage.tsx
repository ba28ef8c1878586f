import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { useCallback, useEffect, useRef, useState } from "react";
import { Link, useParams } from "react-router";
import { api, unwrap } from "../client/api";
import type { LabelRead, Project } from "../client/types";
import { LabelEditor } from "../components/MyLabels/LabelEditor";
import { MyLabelEntry } from "../components/MyLabels/MyLabelEntry";
import styles from "../components/MyLabels/MyLabels.module.css";
import { ErrorNotice } from "../components/ui/ErrorNotice";
import { hasModifier, isTypingTarget } from "../lib/keys";
import { useDocumentTitle } from "../lib/useDocumentTitle";
import { useWindowKeydown } from "../lib/useWindowKeydown";
import { myLabelsKey, projectKey } from "./queries";

const PAGE_SIZE = 20;

/** My labels in one project (any member): read them back, and change one while its item is open. */
export function MyLabelsPage() {
  const projectId = Number(useParams().projectId);
  const project = useQuery({
    queryKey: projectKey(projectId),
    queryFn: () => unwrap(api.GET("/api/projects/{project_id}", { params: { path: { project_id: projectId } } })),
  });
  if (project.isPending) return <p className="page-loading" role="status">Loading project…</p>;
  if (project.isError)
    return (
      <div className="page">
        <ErrorNotice error={project.error} />
      </div>
    );
  return <MyLabels key={projectId} project={project.data} />;
}

function MyLabels({ project }: { project: Project }) {
  useDocumentTitle(`My labels: ${project.name}`);
  const labels = useInfiniteQuery({
    queryKey: myLabelsKey(project.id),
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/projects/{project_id}/labels/mine", {
          params: { path: { project_id: project.id }, query: { after: pageParam, limit: PAGE_SIZE } },
        }),
      ),
    initialPageParam: 0,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const all = labels.data?.pages.flatMap((p) => p.items) ?? [];
  const [selected, setSelected] = useState(0);
  const [editingId, setEditingId] = useState<number | null>(null);
  const [notice, setNotice] = useState("");
  const entries = useRef(new Map<number, HTMLElement>());
  // After the editor closes, focus goes back to the entry it was opened from.
  const [refocus, setRefocus] = useState<number | null>(null);

  const editing = editingId === null ? null : (all.find((l) => l.id === editingId) ?? null);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = labels;

  const focusEntry = useCallback((labelId: number | undefined) => {
    if (labelId === undefined) return;
    const el = entries.current.get(labelId);
    el?.focus({ preventScroll: true });
    el?.scrollIntoView({ block: "nearest" });
  }, []);

  useEffect(() => {
    if (editingId !== null || refocus === null) return;
    focusEntry(refocus);
    setRefocus(null);
  }, [editingId, focusEntry, refocus]);

  const move = (by: number) => {
    if (all.length === 0) return;
    const next = Math.max(0, Math.min(all.length - 1, selected + by));
    if (by > 0 && selected === all.length - 1 && hasNextPage && !isFetchingNextPage) void fetchNextPage();
    setSelected(next);
    focusEntry(all[next]?.id);
  };

  const open = (index: number) => {
    const label = all[index];
    if (!label) return;
    setSelected(index);
    setNotice("");
    setEditingId(label.id);
  };

  const close = useCallback(() => {
    setRefocus(editingId);
    setEditingId(null);
  }, [editingId]);

  const saved = useCallback((label: LabelRead) => {
    setNotice(`Saved your new answer for item #${label.item_id}.`);
    setRefocus(label.id);
    setEditingId(null);
  }, []);

  useWindowKeydown(
    (e) => {
      if (e.defaultPrevented || isTypingTarget(e.target) || hasModifier(e)) return;
      if (document.querySelector("dialog[open]")) return;
      const onEntry = e.target instanceof HTMLElement && e.target.dataset.labelId !== undefined;
      if (e.key === "j" || e.key === "ArrowDown") move(1);
      else if (e.key === "k" || e.key === "ArrowUp") move(-1);
      else if (e.key === "e" || (e.key === "Enter" && onEntry)) open(selected);
      else return;
      e.preventDefault();
    },
    editingId === null,
  );

  if (editing) {
    return <LabelEditor key={editing.id} project={project} label={editing} onClose={close} onSaved={saved} />;
  }

  return (
    <div className="page">
      <header className="page-header">
        <div>
          <p className={styles.crumb}>
            <Link to="/">Projects</Link> / {project.name}
          </p>
          <h1>My labels</h1>
        </div>
        <Link to={`/projects/${project.id}/label`} className="btn btn-primary">
          Continue labeling
        </Link>
      </header>
      <p className={styles.intro}>
        Oldest first. <kbd>j</kbd>/<kbd>k</kbd> or <kbd>↓</kbd>/<kbd>↑</kbd> move through the list, <kbd>e</kbd> edits,{" "}
        <kbd>Esc</kbd> closes the editor. A label can change until its item has all the labels it needs.
      </p>
      <div className={`live-region ${styles.saved}`} role="status" aria-live="polite">
        {notice ? <p className="success-box">{notice}</p> : null}
      </div>
      {labels.isPending ? <p role="status">Loading your labels…</p> : null}
      {labels.isError ? <ErrorNotice error={labels.error} /> : null}
      {labels.isSuccess && all.length === 0 ? (
        <div className="empty">
          <p>You have not labeled anything in this project yet.</p>
          <Link to={`/projects/${project.id}/label`} className="btn btn-primary">
            Start labeling
          </Link>
        </div>
      ) : null}
      <ol className={styles.list} aria-label="My labels">
        {all.map((label, i) => (
          <MyLabelEntry
            key={label.id}
            project={project}
            label={label}
            selected={i === selected}
            onSelect={() => setSelected(i)}
            onEdit={() => open(i)}
            entryRef={(el) => {
              if (el) entries.current.set(label.id, el);
              else entries.current.delete(label.id);
            }}
          />
        ))}
      </ol>
      {hasNextPage ? (
        <div className={styles.more}>
          <button type="button" className="btn" onClick={() => void fetchNextPage()} disabled={isFetchingNextPage}>
            {isFetchingNextPage ? "Loading…" : "Show more"}
          </button>
        </div>
      ) : null}
      {labels.isFetchNextPageError ? <ErrorNotice error={labels.error} /> : null}
    </div>
  );
}
