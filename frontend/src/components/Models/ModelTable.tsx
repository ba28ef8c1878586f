import type { ModelVersion } from "../../client/types";
import { formatDateTime } from "../../lib/format";
import { ModelKindTag } from "./ModelKindTag";
import { ModelLineage } from "./ModelLineage";
import { ModelMetrics } from "./ModelMetrics";
import styles from "./Models.module.css";

const STATUS_CLASS: Record<ModelVersion["status"], string> = { pending: "badge", ready: "badge badge-ok", invalid: "badge badge-bad" };

/** Every model version: kind and status, where it comes from, its key metrics. */
export function ModelTable({ models, loaded }: { models: ModelVersion[]; loaded: boolean }) {
  const byId = new Map(models.map((m) => [m.id, m]));
  return (
    <div className="table-wrap">
      <table className="table" aria-label="Model versions">
        <thead>
          <tr>
            <th scope="col" className="num">Id</th>
            <th scope="col">Name</th>
            <th scope="col">Kind</th>
            <th scope="col">Status</th>
            <th scope="col">Lineage</th>
            <th scope="col">Key metrics</th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {models.map((m) => (
            <tr key={m.id} data-model-id={m.id}>
              <td className="num">#{m.id}</td>
              <th scope="row">
                <span className={styles.name}>{m.name}</span>
                <code className={styles.source}>{m.source}</code>
              </th>
              <td>
                <ModelKindTag kind={m.kind} />
              </td>
              <td>
                <span className={STATUS_CLASS[m.status]} title={m.error ?? undefined}>
                  {m.status}
                </span>
                {m.error ? <div className="small error-text">{m.error}</div> : null}
              </td>
              <td>
                <ModelLineage model={m} parent={m.parent_id ? (byId.get(m.parent_id) ?? null) : null} />
              </td>
              <td>
                <ModelMetrics model={m} />
              </td>
              <td>{formatDateTime(m.created_at)}</td>
            </tr>
          ))}
          {loaded && models.length === 0 ? (
            <tr>
              <td colSpan={7} className="muted">
                No models registered yet.
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </div>
  );
}
