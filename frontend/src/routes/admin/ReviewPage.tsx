import { keepPreviousData, useInfiniteQuery } from "@tanstack/react-query";
import { useDeferredValue, useState } from "react";
import { useSearchParams } from "react-router";
import { api, unwrap } from "../../client/api";
import { useProjectContext } from "../../components/Layout/ProjectLayout";
import { AgreementFilter } from "../../components/Quality/AgreementFilter";
import { DisagreementList } from "../../components/Quality/DisagreementList";
import styles from "../../components/Quality/Quality.module.css";
import { RequeueForm } from "../../components/Quality/RequeueForm";
import { ReviewItemPanel } from "../../components/Quality/ReviewItemPanel";
import { ErrorNotice } from "../../components/ui/ErrorNotice";
import { useDocumentTitle } from "../../lib/useDocumentTitle";
import { disagreementsKey } from "../queries";

const PAGE = 50;

export function ReviewPage() {
  const { project, canManage, canReview } = useProjectContext();
  useDocumentTitle(`Review · ${project.name}`);
  const [search, setSearch] = useSearchParams();
  const selected = Number(search.get("item")) || null;
  const [maxAgreement, setMaxAgreement] = useState(0.75);
  const [includeAdjudicated, setIncludeAdjudicated] = useState(false);
  const [picked, setPicked] = useState(false);
  // The slider moves in small steps; ask the API for the value it settles on.
  const threshold = useDeferredValue(maxAgreement);
  const queue = useInfiniteQuery({
    queryKey: [...disagreementsKey(project.id), threshold, includeAdjudicated],
    initialPageParam: 0,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/projects/{project_id}/quality/items", {
          params: {
            path: { project_id: project.id },
            query: { max_agreement: threshold, include_adjudicated: includeAdjudicated, after: pageParam, limit: PAGE },
          },
        }),
      ),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    placeholderData: keepPreviousData,
    enabled: canReview,
  });
  const items = queue.data?.pages.flatMap((p) => p.items) ?? [];
  const at = items.findIndex((i) => i.item_id === selected);
  const nextId = (items[at + 1] ?? items.find((i) => i.item_id !== selected))?.item_id ?? null;
  const select = (itemId: number) => {
    setPicked(true);
    setSearch(
      (prev) => {
        const next = new URLSearchParams(prev);
        next.set("item", String(itemId));
        return next;
      },
      { replace: true },
    );
  };

  if (!canReview) return <p className="notice">Only the project’s reviewers and managers can review items.</p>;
  return (
    <div className={styles.reviewLayout}>
      <section className={`card ${styles.queue}`} aria-labelledby="queue-heading">
        <h2 id="queue-heading" style={{ margin: 0 }}>
          Disagreements
        </h2>
        <AgreementFilter
          maxAgreement={maxAgreement}
          onMaxAgreement={setMaxAgreement}
          includeAdjudicated={includeAdjudicated}
          onIncludeAdjudicated={setIncludeAdjudicated}
        />
        {queue.isError ? <ErrorNotice error={queue.error} /> : null}
        {queue.isPending ? (
          <p className="muted" role="status">
            Loading…
          </p>
        ) : null}
        {queue.isSuccess && items.length === 0 ? (
          <p className="muted">No items agree less than {threshold}. Nothing to review here.</p>
        ) : null}
        <DisagreementList items={items} selectedId={selected} onSelect={select} />
        {queue.hasNextPage ? (
          <button type="button" className="btn" onClick={() => void queue.fetchNextPage()} disabled={queue.isFetchingNextPage}>
            {queue.isFetchingNextPage ? "Loading…" : "Show more"}
          </button>
        ) : null}
        {canManage ? <RequeueForm projectId={project.id} maxAgreement={maxAgreement} /> : null}
      </section>
      <div>
        {selected ? (
          <ReviewItemPanel
            key={selected}
            project={project}
            itemId={selected}
            canManage={canManage}
            autoFocus={picked}
            onNext={nextId ? () => select(nextId) : undefined}
          />
        ) : (
          <div className="empty">Choose an item on the left to see its answers and decide it.</div>
        )}
      </div>
    </div>
  );
}
