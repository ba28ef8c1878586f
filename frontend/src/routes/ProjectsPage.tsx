import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { useMyProgress } from "../annotation/useAssignmentQueue";
import { useMe } from "../auth/AuthContext";
import { api, unwrap } from "../client/api";
import type { Project } from "../client/types";
import { KIND_NAMES } from "../components/Annotation/TaskHeader";
import styles from "../components/Layout/Layout.module.css";
import { ErrorNotice } from "../components/ui/ErrorNotice";
import { ProgressBar } from "../components/ui/ProgressBar";
import { formatNumber, formatPercent } from "../lib/format";
import { progressKey, projectsKey } from "./queries";
import { useDocumentTitle } from "../lib/useDocumentTitle";

export function ProjectsPage() {
  useDocumentTitle("My projects");
  const me = useMe();
  const projects = useQuery({ queryKey: projectsKey, queryFn: () => unwrap(api.GET("/api/projects")) });
  const active = (projects.data ?? []).filter((p) => !p.archived);
  const archived = (projects.data ?? []).filter((p) => p.archived);
  return (
    <div className="page">
      <header className="page-header">
        <h1>My projects</h1>
        {me.role === "admin" ? (
          <Link to="/projects/new" className="btn btn-primary">
            New project
          </Link>
        ) : null}
      </header>
      {projects.isPending ? <p role="status">Loading…</p> : null}
      {projects.isError ? <ErrorNotice error={projects.error} /> : null}
      {projects.isSuccess && projects.data.length === 0 ? (
        <div className="empty">
          <p>
            {me.role === "admin"
              ? "No projects yet. Create the first one with “New project”."
              : "You are not a member of any project yet. Ask a manager to add you."}
          </p>
        </div>
      ) : null}
      <ul className={styles.projectGrid} aria-label="Projects">
        {active.map((p) => (
          <ProjectCard key={p.id} project={p} canManage={me.role === "admin" || p.my_role === "manager"} />
        ))}
      </ul>
      {archived.length ? (
        <details className={styles.archived}>
          <summary>Archived projects ({archived.length})</summary>
          <ul className={styles.projectGrid}>
            {archived.map((p) => (
              <ProjectCard key={p.id} project={p} canManage={me.role === "admin" || p.my_role === "manager"} />
            ))}
          </ul>
        </details>
      ) : null}
    </div>
  );
}

function ProjectCard({ project, canManage }: { project: Project; canManage: boolean }) {
  const path = { params: { path: { project_id: project.id } } };
  const mine = useMyProgress(project.id);
  const overall = useQuery({
    queryKey: progressKey(project.id),
    queryFn: () => unwrap(api.GET("/api/projects/{project_id}/progress", path)),
  });
  const completion = overall.data?.completion ?? 0;
  return (
    <li className={styles.projectCard}>
      <div className={styles.projectCardTop}>
        <h2 className={styles.projectCardTitle}>
          <Link to={`/projects/${project.id}/label`}>{project.name}</Link>
        </h2>
        <span className="badge">{project.task_kind}</span>
      </div>
      <p className="muted small">
        {KIND_NAMES[project.task_kind]}
        {project.my_role ? ` · ${project.my_role}` : ""}
      </p>
      <dl className={styles.cardStats}>
        <div>
          <dt>Today</dt>
          <dd>{mine.data ? formatNumber(mine.data.labels_today) : "–"}</dd>
        </div>
        <div>
          <dt>My total</dt>
          <dd>{mine.data ? formatNumber(mine.data.labels) : "–"}</dd>
        </div>
        <div>
          <dt>Project</dt>
          <dd>{overall.data ? formatPercent(completion) : "–"}</dd>
        </div>
      </dl>
      <ProgressBar value={completion} label={`${project.name}: project completion`} />
      <div className={styles.cardActions}>
        <Link to={`/projects/${project.id}/label`} className="btn btn-primary">
          Start labeling
        </Link>
        <Link to={`/projects/${project.id}/labels`} className="btn">
          My labels
        </Link>
        <Link to={`/projects/${project.id}`} className="btn">
          {canManage ? "Manage" : "Overview"}
        </Link>
      </div>
    </li>
  );
}
