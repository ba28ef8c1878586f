import { useQuery } from "@tanstack/react-query";
import { Link, NavLink, Outlet, useOutletContext, useParams } from "react-router";
import { useMe } from "../../auth/AuthContext";
import { api, unwrap } from "../../client/api";
import type { Project } from "../../client/types";
import { projectKey } from "../../routes/queries";
import { KIND_NAMES } from "../Annotation/TaskHeader";
import { ErrorNotice } from "../ui/ErrorNotice";
import styles from "./Layout.module.css";
import { useDocumentTitle } from "../../lib/useDocumentTitle";

export interface ProjectContext {
  project: Project;
  canManage: boolean;
  /** Reviewers and managers (and admins) see quality reports and review disagreements. */
  canReview: boolean;
}

export function useProjectContext(): ProjectContext {
  return useOutletContext<ProjectContext>();
}

/** A project's own pages (overview, data, quality, review, snapshots, members, settings) under one header with tabs. */
export function ProjectLayout() {
  const projectId = Number(useParams().projectId);
  const me = useMe();
  const query = useQuery({
    queryKey: projectKey(projectId),
    queryFn: () => unwrap(api.GET("/api/projects/{project_id}", { params: { path: { project_id: projectId } } })),
  });
  useDocumentTitle(query.data?.name);
  if (query.isPending) return <p className="page-loading" role="status">Loading project…</p>;
  if (query.isError) return <div className="page"><ErrorNotice error={query.error} /></div>;
  const project = query.data;
  const canManage = me.role === "admin" || project.my_role === "manager";
  const canReview = canManage || project.my_role === "reviewer";
  const tab = ({ isActive }: { isActive: boolean }) => `${styles.tab} ${isActive ? styles.tabActive : ""}`;
  return (
    <div className="page">
      <header className={styles.projectHeader}>
        <div>
          <p className={styles.crumb}>
            <Link to="/">Projects</Link> /
          </p>
          <h1 className={styles.projectTitle}>
            {project.name}
            {project.archived ? <span className="badge">archived</span> : null}
          </h1>
          <p className="muted">
            {KIND_NAMES[project.task_kind]}
            {project.task_kind === "ranking" ? ` · ${project.candidates_per_item} responses per item` : ""} · overlap{" "}
            {project.overlap}
            {project.my_role ? ` · you are ${project.my_role}` : ""}
          </p>
        </div>
        <div className={styles.headerActions}>
          {canManage ? (
            <Link to={`/projects/${project.id}/jobs/new`} className="btn">
              Launch job
            </Link>
          ) : null}
          <Link to={`/projects/${project.id}/label`} className="btn btn-primary">
            Start labeling
          </Link>
        </div>
      </header>
      <nav className={styles.tabs} aria-label="Project">
        <NavLink to={`/projects/${project.id}`} end className={tab}>
          Overview
        </NavLink>
        {canManage ? (
          <NavLink to={`/projects/${project.id}/data`} className={tab}>
            Data
          </NavLink>
        ) : null}
        {canReview ? (
          <>
            <NavLink to={`/projects/${project.id}/quality`} className={tab}>
              Quality
            </NavLink>
            <NavLink to={`/projects/${project.id}/review`} className={tab}>
              Review
            </NavLink>
          </>
        ) : null}
        {canManage ? (
          <>
            <NavLink to={`/projects/${project.id}/snapshots`} className={tab}>
              Snapshots
            </NavLink>
            <NavLink to={`/projects/${project.id}/members`} className={tab}>
              Members
            </NavLink>
            <NavLink to={`/projects/${project.id}/settings`} className={tab}>
              Settings
            </NavLink>
          </>
        ) : null}
      </nav>
      <Outlet context={{ project, canManage, canReview } satisfies ProjectContext} />
    </div>
  );
}
