import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../../client/api";
import type { Snapshot, SnapshotCreate } from "../../client/types";
import styles from "../../components/Datasets/Datasets.module.css";
import { SnapshotCard } from "../../components/Datasets/SnapshotCard";
import { SnapshotForm } from "../../components/Datasets/SnapshotForm";
import { useProjectContext } from "../../components/Layout/ProjectLayout";
import { ErrorNotice } from "../../components/ui/ErrorNotice";
import { useDocumentTitle } from "../../lib/useDocumentTitle";
import { snapshotsKey } from "../queries";

/** Poll while a snapshot builds; otherwise the list only changes when someone creates one here. */
export function snapshotPollInterval(snapshots: Snapshot[] | undefined): number | false {
  return snapshots?.some((s) => s.status === "building") ? 2_000 : false;
}

export function SnapshotsPage() {
  const { project, canManage } = useProjectContext();
  useDocumentTitle(`Snapshots · ${project.name}`);
  const queryClient = useQueryClient();
  const path = { params: { path: { project_id: project.id } } };
  const snapshots = useQuery({
    queryKey: snapshotsKey(project.id),
    queryFn: () => unwrap(api.GET("/api/projects/{project_id}/snapshots", path)),
    refetchInterval: (q) => snapshotPollInterval(q.state.data),
    enabled: canManage,
  });
  const create = async (body: SnapshotCreate) => {
    const created = await unwrap(api.POST("/api/projects/{project_id}/snapshots", { ...path, body }));
    queryClient.setQueryData<Snapshot[]>(snapshotsKey(project.id), (old) => [created, ...(old ?? []).filter((s) => s.id !== created.id)]);
    await queryClient.invalidateQueries({ queryKey: snapshotsKey(project.id) });
  };

  if (!canManage) return <p className="notice">Only the project’s managers can make datasets.</p>;
  return (
    <div className="stack">
      <section className="card" aria-labelledby="new-snapshot-heading">
        <h2 id="new-snapshot-heading">New snapshot</h2>
        <p className="help" style={{ marginBottom: "1rem" }}>
          A snapshot freezes the labels as they are now into train/validation/test tables. A background job builds it;
          the same settings over the same labels always give the same content hash.
        </p>
        <SnapshotForm criteria={project.criteria} onCreate={create} />
      </section>
      <section aria-labelledby="snapshots-heading">
        <h2 id="snapshots-heading">Snapshots</h2>
        {snapshots.isError ? <ErrorNotice error={snapshots.error} /> : null}
        {snapshots.isPending ? (
          <p className="muted" role="status">
            Loading…
          </p>
        ) : null}
        {snapshots.isSuccess && snapshots.data.length === 0 ? (
          <div className="empty">No snapshots yet. Create the first one above.</div>
        ) : null}
        <ul className={styles.list} aria-label="Snapshots">
          {(snapshots.data ?? []).map((s) => (
            <SnapshotCard key={s.id} snapshot={s} />
          ))}
        </ul>
      </section>
    </div>
  );
}
