import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../../client/api";
import type { ProjectProgress } from "../../client/types";
import { AnnotatorChart } from "../../components/Admin/AnnotatorChart";
import { AnnotatorTable } from "../../components/Admin/AnnotatorTable";
import { StatGrid, type Stat } from "../../components/Admin/StatGrid";
import { useProjectContext } from "../../components/Layout/ProjectLayout";
import { ErrorNotice } from "../../components/ui/ErrorNotice";
import { ProgressBar } from "../../components/ui/ProgressBar";
import { formatNumber, formatPercent } from "../../lib/format";
import { browserTimeZone } from "../../lib/timeZone";
import { annotatorsKey, progressKey } from "../queries";

const REFRESH_MS = 10_000;

function stats(p: ProjectProgress): Stat[] {
  return [
    { label: "Items", value: formatNumber(p.items), hint: p.gold_items ? `+ ${formatNumber(p.gold_items)} gold` : undefined },
    { label: "Complete", value: formatNumber(p.items_complete), hint: `${formatNumber(p.items_in_progress)} in progress` },
    { label: "Labels", value: formatNumber(p.labels), hint: `of ${formatNumber(p.labels_needed)} needed` },
    { label: "Last hour", value: formatNumber(p.labels_last_hour), hint: `${p.labels_per_hour.toFixed(1)}/h over 24 h` },
    { label: "Active annotators", value: formatNumber(p.active_annotators_last_hour), hint: `${formatNumber(p.live_leases)} items open` },
    { label: "Skipped / flagged", value: `${formatNumber(p.skipped)} · ${formatNumber(p.flagged)}` },
  ];
}

export function DashboardPage() {
  const { project, canManage } = useProjectContext();
  const queryClient = useQueryClient();
  const path = { params: { path: { project_id: project.id } } };
  const progress = useQuery({
    queryKey: progressKey(project.id),
    queryFn: () => unwrap(api.GET("/api/projects/{project_id}/progress", path)),
    refetchInterval: REFRESH_MS,
  });
  const annotators = useQuery({
    queryKey: annotatorsKey(project.id),
    queryFn: () =>
      unwrap(
        api.GET("/api/projects/{project_id}/progress/annotators", {
          params: { path: { project_id: project.id }, query: { tz: browserTimeZone() } },
        }),
      ),
    refetchInterval: REFRESH_MS,
    enabled: canManage,
  });
  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: progressKey(project.id) }),
      queryClient.invalidateQueries({ queryKey: annotatorsKey(project.id) }),
    ]);

  return (
    <div className="stack">
      <section aria-labelledby="progress-heading" className="card">
        <header className="section-header">
          <h2 id="progress-heading">Progress</h2>
          <button type="button" className="btn btn-quiet" onClick={() => void refresh()} disabled={progress.isFetching}>
            {progress.isFetching ? "Refreshing…" : "Refresh"}
          </button>
        </header>
        {progress.isError ? <ErrorNotice error={progress.error} /> : null}
        {progress.data ? (
          <>
            <div className="completion" data-testid="completion">
              <span className="completion-value">{formatPercent(progress.data.completion)}</span>
              <span className="muted">of the needed labels are done</span>
            </div>
            <ProgressBar value={progress.data.completion} label="Project completion" />
            <StatGrid stats={stats(progress.data)} label="Project numbers" />
          </>
        ) : (
          <p className="muted" role="status">
            Loading…
          </p>
        )}
      </section>
      {canManage ? (
        <section aria-labelledby="annotators-heading" className="card">
          <h2 id="annotators-heading">Annotators</h2>
          {annotators.isError ? <ErrorNotice error={annotators.error} /> : null}
          {annotators.data && annotators.data.length > 0 ? <AnnotatorChart rows={annotators.data} /> : null}
          <AnnotatorTable rows={annotators.data ?? []} />
        </section>
      ) : null}
    </div>
  );
}
