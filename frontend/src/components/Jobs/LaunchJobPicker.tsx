import { useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router";
import { useMe } from "../../auth/AuthContext";
import { api, unwrap } from "../../client/api";
import { projectsKey } from "../../routes/queries";
import styles from "./LaunchJob.module.css";

/** "Launch job" on the Jobs page: jobs belong to a project, so choose one of those I manage first. */
export function LaunchJobPicker() {
  const me = useMe();
  const navigate = useNavigate();
  const projects = useQuery({ queryKey: projectsKey, queryFn: () => unwrap(api.GET("/api/projects")) });
  const managed = (projects.data ?? []).filter((p) => !p.archived && (me.role === "admin" || p.my_role === "manager"));
  const [chosen, setChosen] = useState("");
  if (!managed.length) return null;
  const projectId = chosen || String(managed[0]!.id);
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    navigate(`/projects/${projectId}/jobs/new`);
  };
  return (
    <form className={styles.picker} onSubmit={onSubmit} aria-label="Launch a job">
      <div className="field">
        <label htmlFor="launch-project">In project</label>
        <select id="launch-project" value={projectId} onChange={(e) => setChosen(e.target.value)}>
          {managed.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </select>
      </div>
      <button type="submit" className="btn btn-primary">
        Launch job
      </button>
    </form>
  );
}
