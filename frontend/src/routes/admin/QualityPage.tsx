import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, unwrap } from "../../client/api";
import { errorMessage } from "../../client/errors";
import type { AnnotatorQuality, ProjectRole, QualityReport } from "../../client/types";
import { StatGrid, type Stat } from "../../components/Admin/StatGrid";
import { useProjectContext } from "../../components/Layout/ProjectLayout";
import { AgreementHistogram } from "../../components/Quality/AgreementHistogram";
import { AgreementTimeline } from "../../components/Quality/AgreementTimeline";
import { AnnotatorQualityTable } from "../../components/Quality/AnnotatorQualityTable";
import { MetricCards } from "../../components/Quality/MetricCards";
import styles from "../../components/Quality/Quality.module.css";
import { ThresholdsForm } from "../../components/Quality/ThresholdsForm";
import { ErrorNotice } from "../../components/ui/ErrorNotice";
import { formatNumber } from "../../lib/format";
import { useDocumentTitle } from "../../lib/useDocumentTitle";
import { formatMetric, isProjectRole } from "../../quality/format";
import { DEFAULT_THRESHOLDS, type FlagThresholds } from "../../quality/thresholds";
import { annotatorQualityKey, membersKey, qualityKey } from "../queries";

function summary(r: QualityReport): Stat[] {
  return [
    { label: "Labels", value: formatNumber(r.labels) },
    { label: "Items labeled", value: formatNumber(r.items_labelled) },
    { label: "With overlap", value: formatNumber(r.items_with_overlap), hint: "2+ labels: agreement is measured here" },
    { label: "Mean item agreement", value: formatMetric(r.mean_item_agreement) },
    { label: "Gold items", value: formatNumber(r.gold_items) },
    { label: "Adjudicated", value: formatNumber(r.adjudicated_items) },
  ];
}

export function QualityPage() {
  const { project, canManage, canReview } = useProjectContext();
  useDocumentTitle(`Quality · ${project.name}`);
  const queryClient = useQueryClient();
  const path = { params: { path: { project_id: project.id } } };
  const [thresholds, setThresholds] = useState<FlagThresholds>(DEFAULT_THRESHOLDS);
  const report = useQuery({
    queryKey: qualityKey(project.id),
    queryFn: () => unwrap(api.GET("/api/projects/{project_id}/quality", path)),
    enabled: canReview,
  });
  const annotators = useQuery({
    queryKey: [...annotatorQualityKey(project.id), thresholds],
    queryFn: () =>
      unwrap(
        api.GET("/api/projects/{project_id}/quality/annotators", {
          params: { path: { project_id: project.id }, query: thresholds },
        }),
      ),
    enabled: canManage,
  });
  const [pauseError, setPauseError] = useState<string | null>(null);
  const pause = useMutation({
    mutationFn: ({ userId, role, paused }: { userId: number; role: ProjectRole; paused: boolean }) =>
      unwrap(api.PUT("/api/projects/{project_id}/members", { ...path, body: { user_id: userId, role, paused } })),
    onSuccess: () => {
      setPauseError(null);
      void queryClient.invalidateQueries({ queryKey: membersKey(project.id) });
      return queryClient.invalidateQueries({ queryKey: annotatorQualityKey(project.id) });
    },
    onError: (err) => setPauseError(errorMessage(err)),
  });

  if (!canReview) return <p className="notice">Only the project’s reviewers and managers can see its quality.</p>;
  return (
    <div className="stack">
      <section aria-labelledby="agreement-heading" className="card">
        <header className="section-header">
          <h2 id="agreement-heading">Agreement</h2>
          <button
            type="button"
            className="btn btn-quiet"
            onClick={() => void queryClient.invalidateQueries({ queryKey: ["quality"] })}
            disabled={report.isFetching}
          >
            {report.isFetching ? "Refreshing…" : "Refresh"}
          </button>
        </header>
        {report.isError ? <ErrorNotice error={report.error} /> : null}
        {report.data ? (
          <div className="stack">
            <MetricCards metrics={report.data.metrics} />
            <StatGrid stats={summary(report.data)} label="Quality numbers" />
            <div className={styles.charts}>
              <AgreementHistogram counts={report.data.agreement_histogram} />
              <AgreementTimeline points={report.data.timeline} />
            </div>
          </div>
        ) : report.isPending ? (
          <p className="muted" role="status">
            Loading…
          </p>
        ) : null}
      </section>
      {canManage ? (
        <section aria-labelledby="annotator-quality-heading" className="card stack">
          <header className="section-header">
            <h2 id="annotator-quality-heading">Annotators</h2>
          </header>
          <p className="help">
            Flagged annotators come first. Pausing someone stops new items for them; snapshots leave their labels out
            by default.
          </p>
          <ThresholdsForm value={thresholds} onApply={setThresholds} />
          <div className="live-region" aria-live="polite">
            {pauseError ? (
              <p role="alert" className="error-box">
                {pauseError}
              </p>
            ) : null}
          </div>
          {annotators.isError ? <ErrorNotice error={annotators.error} /> : null}
          {annotators.isPending ? (
            <p className="muted" role="status">
              Loading…
            </p>
          ) : (
            <AnnotatorQualityTable
              rows={annotators.data ?? []}
              busyUserId={pause.isPending ? (pause.variables?.userId ?? null) : null}
              onPause={(row: AnnotatorQuality, paused) => {
                if (isProjectRole(row.role)) pause.mutate({ userId: row.user_id, role: row.role, paused });
              }}
            />
          )}
        </section>
      ) : null}
    </div>
  );
}
