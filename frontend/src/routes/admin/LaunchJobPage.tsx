import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { useMe } from "../../auth/AuthContext";
import { api, unwrap } from "../../client/api";
import type { JobKind } from "../../client/types";
import { JobKindPicker } from "../../components/Jobs/JobKindPicker";
import styles from "../../components/Jobs/LaunchJob.module.css";
import { LaunchJobForm } from "../../components/Jobs/LaunchJobForm";
import { useProjectContext } from "../../components/Layout/ProjectLayout";
import { ErrorNotice } from "../../components/ui/ErrorNotice";
import { KIND_TITLES, launchableKinds } from "../../jobs/kinds";
import { useDocumentTitle } from "../../lib/useDocumentTitle";
import { jobKindsKey, modelsKey, snapshotsKey } from "../queries";

/** Launch a generation, training or evaluation job in this project: pick a kind, fill the form made from its schema. */
export function LaunchJobPage() {
  const { project, canManage } = useProjectContext();
  useDocumentTitle(`Launch job · ${project.name}`);
  const me = useMe();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [search, setSearch] = useSearchParams();
  const urlKind = search.get("kind");
  const [kind, setKind] = useState<string | null>(urlKind);
  useEffect(() => setKind(urlKind), [urlKind]); // a link or Back changed it
  const kinds = useQuery({
    queryKey: jobKindsKey,
    queryFn: () => unwrap(api.GET("/api/jobs/kinds")),
    staleTime: Infinity,
    enabled: canManage,
  });
  const models = useQuery({ queryKey: modelsKey, queryFn: () => unwrap(api.GET("/api/models")), enabled: canManage });
  const snapshots = useQuery({
    queryKey: snapshotsKey(project.id),
    queryFn: () => unwrap(api.GET("/api/projects/{project_id}/snapshots", { params: { path: { project_id: project.id } } })),
    enabled: canManage,
  });

  if (!canManage) return <p className="notice">Only the project’s managers can launch jobs.</p>;

  const offered = launchableKinds(kinds.data ?? [], me.role === "admin");
  const chosen = offered.find((k) => k.kind === kind) ?? null;
  // Any other query parameter that names a field presets it (a snapshot's "Train a reward model" link).
  const preset = Object.fromEntries([...search.entries()].filter(([key]) => key !== "kind"));
  const choose = (next: JobKind) => {
    setKind(next); // at once, so the radio shows it; the URL follows (for reloads and links)
    setSearch(
      (old) => {
        const params = new URLSearchParams(old);
        params.set("kind", next);
        return params;
      },
      { replace: true },
    );
  };
  const launch = async (params: Record<string, unknown>) => {
    if (!chosen) return;
    const job = await unwrap(api.POST("/api/jobs", { body: { kind: chosen.kind, project_id: project.id, params } }));
    await queryClient.invalidateQueries({ queryKey: ["jobs"] });
    navigate(`/jobs/${job.id}`);
  };

  const loading = kinds.isPending || models.isPending || snapshots.isPending;
  return (
    <div className="stack">
      <section className="card" aria-labelledby="launch-heading">
        <header className="section-header">
          <h2 id="launch-heading">Launch a job</h2>
          <span className="small">
            <Link to="/jobs">All jobs</Link> · <Link to="/models">Models</Link>
          </span>
        </header>
        {kinds.isError ? <ErrorNotice error={kinds.error} title="Could not load the kinds of job" /> : null}
        {models.isError ? <ErrorNotice error={models.error} title="Could not load the models" /> : null}
        {snapshots.isError ? <ErrorNotice error={snapshots.error} title="Could not load the snapshots" /> : null}
        {loading ? (
          <p className="muted" role="status">
            Loading…
          </p>
        ) : (
          <JobKindPicker kinds={offered} value={chosen?.kind ?? null} onChange={choose} />
        )}
        {chosen && !loading ? (
          <section aria-labelledby="params-heading">
            <h3 id="params-heading" className={styles.paramsHeading}>
              {KIND_TITLES[chosen.kind]}: parameters
            </h3>
            <LaunchJobForm
              key={chosen.kind}
              kind={chosen}
              models={models.data ?? []}
              snapshots={snapshots.data ?? []}
              preset={preset}
              submitLabel="Launch job"
              onLaunch={launch}
            />
          </section>
        ) : null}
        {!chosen && !loading && offered.length ? <p className="help">Choose what to run to see its settings.</p> : null}
      </section>
    </div>
  );
}
