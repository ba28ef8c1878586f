import type { AnnotatorProgress } from "../../client/types";
import { formatDateTime, formatMs, formatNumber } from "../../lib/format";

/** Per-annotator counts, for managers. */
export function AnnotatorTable({ rows }: { rows: AnnotatorProgress[] }) {
  return (
    <div className="table-wrap">
      <table className="table" aria-label="Annotators">
        <thead>
          <tr>
            <th scope="col">Annotator</th>
            <th scope="col" className="num">Labels</th>
            <th scope="col" className="num">Today</th>
            <th scope="col" className="num">Last hour</th>
            <th scope="col" className="num">Gold</th>
            <th scope="col" className="num">Skipped</th>
            <th scope="col" className="num">Median time</th>
            <th scope="col">Last label</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.user_id}>
              <th scope="row">{r.username}</th>
              <td className="num">{formatNumber(r.labels)}</td>
              <td className="num">{formatNumber(r.labels_today)}</td>
              <td className="num">{formatNumber(r.labels_last_hour)}</td>
              <td className="num">{formatNumber(r.gold_labels)}</td>
              <td className="num">{formatNumber(r.skipped)}</td>
              <td className="num">{formatMs(r.median_time_ms)}</td>
              <td>{formatDateTime(r.last_label_at)}</td>
            </tr>
          ))}
          {rows.length === 0 ? (
            <tr>
              <td colSpan={8} className="muted">
                Nobody has labeled anything yet.
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </div>
  );
}
