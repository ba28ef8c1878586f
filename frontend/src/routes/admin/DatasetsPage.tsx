import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, unwrap } from "../../client/api";
import type { Project } from "../../client/types";
import { SnapshotStatusTag } from "../../components/Datasets/SnapshotStatusTag";
import { ErrorNotice } from "../../components/ui/ErrorNotice";
import { formatDateTime, formatNumber } from "../../lib/format";
import { useDocumentTitle } from "../../lib/useDocumentTitle";
import { projectsKey, snapshotsKey } from "../queries";

/** Every project with its snapshots at a glance; each project's own page makes and downloads them. */
export function DatasetsPage() {
  useDocumentTitle("Datasets");
  const projects = useQuery({ queryKey: projectsKey, queryFn: () => unwrap(api.GET("/api/projects")) });
  return (
    <div className="page stack">
      <header className="page-header">
        <h1>Datasets</h1>
      </header>
      <p className="help">Snapshots are made per project. Pick a project to create one or download its files.</p>
      {projects.isError ? <ErrorNotice error={projects.error} /> : null}
      {projects.isPending ? <p role="status">Loading…</p> : null}
      <div className="table-wrap">
        <table className="table" aria-label="Projects and their snapshots">
          <thead>
            <tr>
              <th scope="col">Project</th>
              <th scope="col">Task</th>
              <th scope="col" className="num">Snapshots</th>
              <th scope="col">Latest</th>
            </tr>
          </thead>
          <tbody>
            {(projects.data ?? []).map((p) => (
              <ProjectRow key={p.id} project={p} />
            ))}
            {projects.isSuccess && projects.data.length === 0 ? (
              <tr>
                <td colSpan={4} className="muted">
                  No projects yet.
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function ProjectRow({ project }: { project: Project }) {
  const snapshots = useQuery({
    queryKey: snapshotsKey(project.id),
    queryFn: () => unwrap(api.GET("/api/projects/{project_id}/snapshots", { params: { path: { project_id: project.id } } })),
  });
  const latest = snapshots.data?.[0];
  return (
    <tr>
      <th scope="row">
        <Link to={`/projects/${project.id}/snapshots`}>{project.name}</Link>
        {project.archived ? <span className="badge">archived</span> : null}
      </th>
      <td>{project.task_kind}</td>
      <td className="num">{snapshots.data ? formatNumber(snapshots.data.length) : "–"}</td>
      <td>
        {latest ? (
          <>
            {latest.name} <SnapshotStatusTag status={latest.status} />{" "}
            <span className="muted small">{formatDateTime(latest.created_at)}</span>
          </>
        ) : snapshots.isError ? (
          <span className="muted">unavailable</span>
        ) : (
          <span className="muted">–</span>
        )}
      </td>
    </tr>
  );
}
