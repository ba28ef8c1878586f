import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { api, unwrap } from "../../client/api";
import { errorMessage } from "../../client/errors";
import type { Job, JobState } from "../../client/types";
import { JobProgress } from "../../components/Jobs/JobProgress";
import { ACTIVE_STATES, JobStateTag } from "../../components/Jobs/JobState";
import { LaunchJobPicker } from "../../components/Jobs/LaunchJobPicker";
import styles from "../../components/Jobs/Jobs.module.css";
import { ErrorNotice } from "../../components/ui/ErrorNotice";
import { formatDateTime } from "../../lib/format";
import { jobsKey } from "../queries";
import { useDocumentTitle } from "../../lib/useDocumentTitle";

const STATES: JobState[] = ["queued", "running", "succeeded", "failed", "cancelled"];

/** Poll fast while something runs, slowly otherwise. */
export function pollInterval(jobs: Job[] | undefined): number {
  return jobs?.some((j) => ACTIVE_STATES.includes(j.state)) ? 2_000 : 15_000;
}

export function JobsPage() {
  useDocumentTitle("Jobs");
  const [state, setState] = useState<JobState | "">("");
  const queryClient = useQueryClient();
  const jobs = useQuery({
    queryKey: jobsKey(state),
    queryFn: () => unwrap(api.GET("/api/jobs", { params: { query: { limit: 100, ...(state ? { state } : {}) } } })),
    refetchInterval: (q) => pollInterval(q.state.data?.items),
  });
  const [error, setError] = useState<string | null>(null);
  const cancel = useMutation({
    mutationFn: (id: number) => unwrap(api.POST("/api/jobs/{job_id}/cancel", { params: { path: { job_id: id } } })),
    onSuccess: () => {
      setError(null);
      return queryClient.invalidateQueries({ queryKey: ["jobs"] });
    },
    onError: (err) => setError(errorMessage(err)),
  });

  return (
    <div className="page stack">
      <header className="page-header">
        <h1>Jobs</h1>
        <LaunchJobPicker />
      </header>
      <div className={styles.filters}>
        <div className="field">
          <label htmlFor="job-state">State</label>
          <select id="job-state" value={state} onChange={(e) => setState(e.target.value as JobState | "")}>
            <option value="">Any</option>
            {STATES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
      </div>
      <div className="live-region" aria-live="polite">{error ? <p role="alert" className="error-box">{error}</p> : null}</div>
      {jobs.isError ? <ErrorNotice error={jobs.error} /> : null}
      <div className="table-wrap">
        <table className="table" aria-label="Jobs">
          <thead>
            <tr>
              <th scope="col" className="num">Id</th>
              <th scope="col">Kind</th>
              <th scope="col">State</th>
              <th scope="col">Progress</th>
              <th scope="col">Project</th>
              <th scope="col">Created</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {(jobs.data?.items ?? []).map((job) => (
              <tr key={job.id}>
                <td className="num">
                  <Link to={`/jobs/${job.id}`}>#{job.id}</Link>
                </td>
                <td>{job.kind}</td>
                <td>
                  <JobStateTag state={job.state} />
                </td>
                <td>
                  <JobProgress job={job} />
                </td>
                <td>{job.project_id ? <Link to={`/projects/${job.project_id}`}>#{job.project_id}</Link> : "–"}</td>
                <td>{formatDateTime(job.created_at)}</td>
                <td className="align-right">
                  {ACTIVE_STATES.includes(job.state) && !job.cancel_requested ? (
                    <button type="button" className="btn btn-quiet btn-danger-text" onClick={() => cancel.mutate(job.id)}>
                      Cancel
                    </button>
                  ) : job.cancel_requested && ACTIVE_STATES.includes(job.state) ? (
                    <span className="muted small">cancelling…</span>
                  ) : null}
                </td>
              </tr>
            ))}
            {jobs.isSuccess && jobs.data.items.length === 0 ? (
              <tr>
                <td colSpan={7} className="muted">
                  No jobs{state ? ` in state “${state}”` : " yet"}.
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </div>
    </div>
  );
}
