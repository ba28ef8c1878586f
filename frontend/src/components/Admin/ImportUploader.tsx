import { useRef, useState, type FormEvent } from "react";
import { ApiError, errorMessage } from "../../client/errors";
import type { ImportFormat, ImportReport } from "../../client/types";
import { uploadImport, type UploadHandle } from "../../client/upload";
import { formatNumber } from "../../lib/format";
import { ProgressBar } from "../ui/ProgressBar";
import styles from "./Admin.module.css";
import { ImportErrorsTable } from "./ImportErrorsTable";

type Phase =
  | { kind: "idle" }
  | { kind: "uploading"; fraction: number }
  | { kind: "processing" }
  | { kind: "done"; report: ImportReport; fileName: string }
  | { kind: "failed"; error: ApiError | Error; fileName: string };

const REPORT_ROWS: { key: keyof ImportReport; label: string }[] = [
  { key: "rows", label: "Rows read" },
  { key: "prompts_created", label: "New prompts" },
  { key: "prompts_existing", label: "Prompts already there" },
  { key: "candidates_created", label: "New responses" },
  { key: "items_created", label: "New items to label" },
];

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Upload a JSONL, CSV or Parquet file of prompts (and responses), with progress and row errors. */
export function ImportUploader({ projectId, onImported }: { projectId: number; onImported: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [format, setFormat] = useState<ImportFormat | "">("");
  const [phase, setPhase] = useState<Phase>({ kind: "idle" });
  const handle = useRef<UploadHandle | null>(null);
  const inputRef = useRef<HTMLInputElement>(null);
  const busy = phase.kind === "uploading" || phase.kind === "processing";

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    if (!file || busy) return;
    setPhase({ kind: "uploading", fraction: 0 });
    handle.current = uploadImport(projectId, file, format || null, (fraction) =>
      setPhase(fraction >= 1 ? { kind: "processing" } : { kind: "uploading", fraction }),
    );
    try {
      const report = await handle.current.promise;
      setPhase({ kind: "done", report, fileName: file.name });
      setFile(null);
      if (inputRef.current) inputRef.current.value = "";
      onImported();
    } catch (err) {
      setPhase({ kind: "failed", error: err instanceof Error ? err : new Error(String(err)), fileName: file.name });
    } finally {
      handle.current = null;
    }
  };

  return (
    <div className="stack">
      <details className={styles.formatHelp}>
        <summary>What a file holds</summary>
        <p>
          One row per prompt: <code>prompt</code> (text) or <code>messages</code> (<code>[{"{"}role, content{"}"}]</code>),
          optional <code>id</code>, <code>metadata</code>, <code>split</code> and <code>candidates</code> (strings or{" "}
          <code>{"{"}text, id, metadata{"}"}</code>; in CSV also <code>candidate_1</code> … <code>candidate_N</code>{" "}
          columns). Items are built from new candidates. Importing the same file again creates nothing new.
        </p>
        <pre>{`{"id": "q1", "prompt": "Explain recursion.", "candidates": ["Answer one", "Answer two"]}`}</pre>
      </details>
      <form className={styles.uploadForm} onSubmit={onSubmit} aria-label="Import a file">
        <div className="field">
          <label htmlFor="import-file">File (JSONL, CSV or Parquet)</label>
          <input
            ref={inputRef}
            id="import-file"
            type="file"
            accept=".jsonl,.json,.ndjson,.csv,.parquet,.pq"
            onChange={(e) => setFile(e.target.files?.[0] ?? null)}
            disabled={busy}
          />
          <p className="help">{file ? `${file.name} · ${formatSize(file.size)}` : "Nothing is imported unless every row is valid."}</p>
        </div>
        <div className="field">
          <label htmlFor="import-format">Format</label>
          <select id="import-format" value={format} onChange={(e) => setFormat(e.target.value as ImportFormat | "")} disabled={busy}>
            <option value="">From the file name</option>
            <option value="jsonl">JSON Lines</option>
            <option value="csv">CSV</option>
            <option value="parquet">Parquet</option>
          </select>
        </div>
        <div className={styles.uploadActions}>
          <button type="submit" className="btn btn-primary" disabled={!file || busy}>
            {busy ? "Importing…" : "Import"}
          </button>
          {phase.kind === "uploading" ? (
            <button type="button" className="btn btn-quiet" onClick={() => handle.current?.abort()}>
              Cancel
            </button>
          ) : null}
        </div>
      </form>
      <div className={`live-region ${styles.uploadStatus}`} aria-live="polite">
        {phase.kind === "uploading" ? (
          <div role="status">
            <p>Uploading… {Math.round(phase.fraction * 100)}%</p>
            <ProgressBar value={phase.fraction} label="Upload progress" />
          </div>
        ) : null}
        {phase.kind === "processing" ? (
          <div role="status">
            <p>Uploaded. Checking and importing rows…</p>
            <ProgressBar value={1} label="Upload progress" />
          </div>
        ) : null}
        {phase.kind === "done" ? <ImportSummary report={phase.report} fileName={phase.fileName} /> : null}
      </div>
      {phase.kind === "failed" ? <ImportFailure error={phase.error} fileName={phase.fileName} /> : null}
    </div>
  );
}

function ImportSummary({ report, fileName }: { report: ImportReport; fileName: string }) {
  return (
    <div className="success-box" role="status">
      <p>
        <strong>Imported {fileName}.</strong>
      </p>
      <dl className={styles.reportList}>
        {REPORT_ROWS.map((r) => (
          <div key={r.key}>
            <dt>{r.label}</dt>
            <dd data-testid={`report-${r.key}`}>{formatNumber(Number(report[r.key] ?? 0))}</dd>
          </div>
        ))}
      </dl>
    </div>
  );
}

function ImportFailure({ error, fileName }: { error: ApiError | Error; fileName: string }) {
  const rows = error instanceof ApiError ? error.rowErrors : [];
  return (
    <div className="stack" role="alert">
      <p className="error-box">
        <strong>{fileName} was not imported.</strong> {errorMessage(error)}
        {rows.length ? ` Fix the ${rows.length === 1 ? "row" : `${rows.length} rows`} below and upload the file again.` : ""}
      </p>
      {rows.length ? <ImportErrorsTable errors={rows} /> : null}
    </div>
  );
}
