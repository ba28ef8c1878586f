import type { RowError } from "../../client/errors";

/** The rows of an import file that the server refused, with why. */
export function ImportErrorsTable({ errors }: { errors: RowError[] }) {
  return (
    <div className="table-wrap">
      <table className="table" aria-label="Rows with errors">
        <thead>
          <tr>
            <th scope="col" className="num" style={{ width: "5rem" }}>
              Row
            </th>
            <th scope="col" style={{ width: "14rem" }}>
              Field
            </th>
            <th scope="col">Problem</th>
          </tr>
        </thead>
        <tbody>
          {errors.map((e, i) => (
            <tr key={i}>
              <td className="num">{e.row ?? "–"}</td>
              <td>{e.field ? <code>{e.field}</code> : <span className="muted">–</span>}</td>
              <td>{e.message}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
