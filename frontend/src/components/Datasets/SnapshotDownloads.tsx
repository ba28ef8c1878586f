import { useState } from "react";
import { exportUrl, FORMATS, LAYOUTS, SPLITS, type ExportOptions, type ExportSplit } from "../../datasets/exports";
import styles from "./Datasets.module.css";

/** Download links for every layout × format of a ready snapshot, with the split and preference options. */
export function SnapshotDownloads({ snapshotId }: { snapshotId: number }) {
  const [options, setOptions] = useState<ExportOptions>({ split: "", withMargin: false, includeTies: false });
  const id = `export-${snapshotId}`;
  return (
    <details className={styles.downloads}>
      <summary>Downloads</summary>
      <div className={styles.downloadOptions}>
        <div className="field">
          <label htmlFor={`${id}-split`}>Split</label>
          <select
            id={`${id}-split`}
            value={options.split}
            onChange={(e) => setOptions({ ...options, split: e.target.value as ExportSplit })}
          >
            <option value="">All splits</option>
            {SPLITS.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <label className="checkbox">
          <input type="checkbox" checked={options.withMargin} onChange={(e) => setOptions({ ...options, withMargin: e.target.checked })} />
          Margin column (preference)
        </label>
        <label className="checkbox">
          <input type="checkbox" checked={options.includeTies} onChange={(e) => setOptions({ ...options, includeTies: e.target.checked })} />
          Include ties (preference)
        </label>
      </div>
      <div className="table-wrap">
        <table className="table" aria-label={`Downloads of snapshot ${snapshotId}`}>
          <thead>
            <tr>
              <th scope="col">Layout</th>
              <th scope="col">Formats</th>
            </tr>
          </thead>
          <tbody>
            {LAYOUTS.map((layout) => (
              <tr key={layout.value}>
                <th scope="row">
                  {layout.label}
                  <span className={styles.layoutHelp}>{layout.help}</span>
                </th>
                <td>
                  <span className={styles.formatLinks}>
                    {FORMATS.map((format) => (
                      <a
                        key={format.value}
                        href={exportUrl(snapshotId, layout.value, format.value, options)}
                        download
                        aria-label={`Download ${layout.label} as ${format.label}`}
                      >
                        {format.label}
                      </a>
                    ))}
                  </span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}
