import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, unwrap } from "../../client/api";
import { snapshotKey } from "../../routes/queries";

/** A link to the snapshot's project Snapshots tab; plain text when the snapshot is not mine to see. */
export function SnapshotLink({ snapshotId }: { snapshotId: number }) {
  const snapshot = useQuery({
    queryKey: snapshotKey(snapshotId),
    queryFn: () => unwrap(api.GET("/api/snapshots/{snapshot_id}", { params: { path: { snapshot_id: snapshotId } } })),
    retry: false,
    staleTime: 5 * 60_000,
  });
  if (!snapshot.data) return <span>snapshot #{snapshotId}</span>;
  return (
    <Link to={`/projects/${snapshot.data.project_id}/snapshots`} title={`Snapshot #${snapshotId} of project #${snapshot.data.project_id}`}>
      {snapshot.data.name} (#{snapshotId})
    </Link>
  );
}
