import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { api, unwrap } from "../../client/api";
import type { Job, LogLine, MetricSeries } from "../../client/types";
import { JobProgress } from "../../components/Jobs/JobProgress";
import { JobStateTag } from "../../components/Jobs/JobState";
import styles from "../../components/Jobs/Jobs.module.css";
import { ErrorNotice } from "../../components/ui/ErrorNotice";
import { formatDateTime } from "../../lib/format";
import { jobKey } from "../queries";
import { pollInterval } from "./JobsPage";
import { useDocumentTitle } from "../../lib/useDocumentTitle";

export function JobPage() {
  const jobId = Number(useParams().jobId);
  const path = { params: { path: { job_id: jobId } } };
  useDocumentTitle(`Job #${jobId}`);
  const job = useQuery({
    queryKey: jobKey(jobId),
    queryFn: () => unwrap(api.GET("/api/jobs/{job_id}", path)),
    refetchInterval: (q) => pollInterval(q.state.data ? [q.state.data] : undefined),
  });
  const interval = pollInterval(job.data ? [job.data] : undefined);
  const metrics = useQuery({
    queryKey: [...jobKey(jobId), "metrics"],
    queryFn: () => unwrap(api.GET("/api/jobs/{job_id}/metrics", path)),
    refetchInterval: interval,
  });
  const logs = useQuery({
    queryKey: [...jobKey(jobId), "logs"],
    queryFn: () => unwrap(api.GET("/api/jobs/{job_id}/logs", { params: { path: { job_id: jobId }, query: { limit: 500 } } })),
    refetchInterval: interval,
  });

  return (
    <div className="page">
      <p className="small muted">
        <Link to="/jobs">Jobs</Link> /
      </p>
      {job.isError ? <ErrorNotice error={job.error} /> : null}
      {job.data ? <JobSummary job={job.data} /> : <p role="status">Loading…</p>}
      {metrics.data && metrics.data.length ? <MetricCharts series={metrics.data} /> : null}
      <section className="card" aria-labelledby="logs-heading" style={{ marginTop: "1.25rem" }}>
        <h2 id="logs-heading">Log</h2>
        <LogView lines={logs.data ?? []} />
      </section>
    </div>
  );
}

function JobSummary({ job }: { job: Job }) {
  return (
    <section className="card" aria-labelledby="job-heading">
      <header className="section-header">
        <h1 id="job-heading" style={{ margin: 0 }}>
          Job #{job.id} · {job.kind}
        </h1>
        <JobStateTag state={job.state} />
      </header>
      <JobProgress job={job} />
      <dl className={styles.facts} style={{ marginTop: "1rem" }}>
        <div>
          <dt>Created</dt>
          <dd>{formatDateTime(job.created_at)}</dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>{formatDateTime(job.started_at)}</dd>
        </div>
        <div>
          <dt>Finished</dt>
          <dd>{formatDateTime(job.finished_at)}</dd>
        </div>
        <div>
          <dt>Worker</dt>
          <dd>{job.worker ?? "–"}</dd>
        </div>
        <div>
          <dt>Attempts</dt>
          <dd>{job.attempts}</dd>
        </div>
        <div>
          <dt>Project</dt>
          <dd>{job.project_id ? <Link to={`/projects/${job.project_id}`}>#{job.project_id}</Link> : "–"}</dd>
        </div>
      </dl>
      {job.error ? (
        <p className="error-box" style={{ marginTop: "1rem" }}>
          <strong>Error: </strong>
          {job.error}
        </p>
      ) : null}
      <details style={{ marginTop: "1rem" }}>
        <summary>Parameters and result</summary>
        <pre className={styles.pre}>{JSON.stringify({ params: job.params, result: job.result }, null, 2)}</pre>
      </details>
    </section>
  );
}

function MetricCharts({ series }: { series: MetricSeries[] }) {
  return (
    <section className="card" aria-labelledby="metrics-heading" style={{ marginTop: "1.25rem" }}>
      <h2 id="metrics-heading">Metrics</h2>
      <div className={styles.charts}>
        {series.map((s) => (
          <figure key={s.name} className={styles.chartBox} style={{ margin: 0 }}>
            <h3>{s.name}</h3>
            <ResponsiveContainer width="100%" height={180}>
              <LineChart data={s.steps.map((step, i) => ({ step, value: s.values[i] }))} margin={{ left: -12, right: 8 }}>
                <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" vertical={false} />
                <XAxis dataKey="step" tick={{ fill: "var(--text-muted)", fontSize: 11 }} />
                <YAxis tick={{ fill: "var(--text-muted)", fontSize: 11 }} domain={["auto", "auto"]} />
                <Tooltip contentStyle={{ background: "var(--surface)", border: "1px solid var(--border)" }} />
                <Line type="monotone" dataKey="value" stroke="var(--chart-1)" dot={false} isAnimationActive={false} />
              </LineChart>
            </ResponsiveContainer>
          </figure>
        ))}
      </div>
    </section>
  );
}

function LogView({ lines }: { lines: LogLine[] }) {
  if (!lines.length) return <p className="muted">No log lines yet.</p>;
  return (
    <pre className={styles.logs} aria-label="Job log">
      {lines.map((l) => (
        <div key={l.id} className={styles[`logLevel_${l.level.toLowerCase()}`] ?? ""}>
          {new Date(l.created_at).toLocaleTimeString()} {l.level.toUpperCase().padEnd(7)} {l.message}
        </div>
      ))}
    </pre>
  );
}
