import { readCounts } from "../../datasets/exports";
import { formatNumber } from "../../lib/format";
import styles from "./Datasets.module.css";

/** Rows per table (pairs, sft, raw) and split. */
export function SnapshotCounts({ counts, name }: { counts: Record<string, unknown>; name: string }) {
  const rows = readCounts(counts);
  if (rows.length === 0) return null;
  return (
    <div className="table-wrap" style={{ width: "fit-content", maxWidth: "100%" }}>
      <table className={`table ${styles.counts}`} aria-label={`Rows in ${name}`}>
        <thead>
          <tr>
            <th scope="col">Table</th>
            <th scope="col" className="num">Train</th>
            <th scope="col" className="num">Validation</th>
            <th scope="col" className="num">Test</th>
            <th scope="col" className="num">Total</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.table}>
              <th scope="row">{r.table}</th>
              <td className="num">{formatNumber(r.train)}</td>
              <td className="num">{formatNumber(r.validation)}</td>
              <td className="num">{formatNumber(r.test)}</td>
              <td className="num">{formatNumber(r.total)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
