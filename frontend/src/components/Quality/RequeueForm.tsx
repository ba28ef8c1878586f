import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, unwrap } from "../../client/api";
import { errorMessage } from "../../client/errors";
import { formatNumber } from "../../lib/format";
import { progressKey } from "../../routes/queries";
import styles from "./Quality.module.css";

interface RequeueFormProps {
  projectId: number;
  maxAgreement: number;
}

/** Managers: send the undecided items agreeing less than the queue's threshold back for N more labels each. */
export function RequeueForm({ projectId, maxAgreement }: RequeueFormProps) {
  const queryClient = useQueryClient();
  const [extra, setExtra] = useState("1");
  const requeue = useMutation({
    mutationFn: (extraLabels: number) =>
      unwrap(
        api.POST("/api/projects/{project_id}/items/requeue", {
          params: { path: { project_id: projectId } },
          body: { max_agreement: maxAgreement, extra_labels: extraLabels, limit: 1000 },
        }),
      ),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: progressKey(projectId) });
      return queryClient.invalidateQueries({ queryKey: ["quality"] });
    },
  });
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const n = Number(extra);
    if (Number.isInteger(n) && n >= 1) requeue.mutate(n);
  };
  const threshold = String(Number(maxAgreement.toFixed(2)));
  return (
    <form className={styles.requeue} onSubmit={onSubmit} aria-labelledby="requeue-heading">
      <h3 id="requeue-heading">Need more labels?</h3>
      <p className="help">Undecided items agreeing less than {threshold} go back to the annotators.</p>
      <div className={styles.requeueRow}>
        <div className="field">
          <label htmlFor="requeue-extra">More labels per item</label>
          <input id="requeue-extra" type="number" min={1} max={50} step={1} required value={extra} onChange={(e) => setExtra(e.target.value)} />
        </div>
        <button type="submit" className="btn" disabled={requeue.isPending}>
          Send back
        </button>
      </div>
      <div className="live-region" aria-live="polite">
        {requeue.isError ? (
          <p role="alert" className="error-box">
            {errorMessage(requeue.error)}
          </p>
        ) : requeue.isSuccess ? (
          <p className="success-box" data-testid="requeue-result">
            {requeue.data.requeued === 0
              ? "No items needed more labels."
              : `Sent ${formatNumber(requeue.data.requeued)} item${requeue.data.requeued === 1 ? "" : "s"} back for more labels.`}
          </p>
        ) : null}
      </div>
    </form>
  );
}
