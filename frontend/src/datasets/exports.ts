import type { ExportFormat, ExportLayout } from "../client/types";

export const LAYOUTS: { value: ExportLayout; label: string; help: string }[] = [
  { value: "preference", label: "Preference", help: "prompt, chosen, rejected (TRL)" },
  { value: "preference_conversational", label: "Preference, chat", help: "chat messages (TRL conversational)" },
  { value: "sft", label: "SFT", help: "prompt, completion (TRL)" },
  { value: "sft_conversational", label: "SFT, chat", help: "chat messages (TRL conversational)" },
  { value: "pairs", label: "Pairs", help: "every column of the pairs table" },
  { value: "raw", label: "Raw labels", help: "every label, for analysis" },
];

export const FORMATS: { value: ExportFormat; label: string }[] = [
  { value: "jsonl", label: "JSONL" },
  { value: "csv", label: "CSV" },
  { value: "parquet", label: "Parquet" },
  { value: "datasets", label: "datasets (.tar)" },
];

export type ExportSplit = "" | "train" | "validation" | "test";

export interface ExportOptions {
  split: ExportSplit;
  withMargin: boolean;
  includeTies: boolean;
}

export function isPreferenceLayout(layout: ExportLayout): boolean {
  return layout === "preference" || layout === "preference_conversational";
}

/** A plain GET link to the export (the session cookie goes with it, so a normal download works). */
export function exportUrl(snapshotId: number, layout: ExportLayout, format: ExportFormat, options: ExportOptions): string {
  const params = new URLSearchParams({ layout, format });
  if (options.split) params.set("split", options.split);
  // The API refuses margin and tie options for layouts that have no such columns.
  if (isPreferenceLayout(layout)) {
    if (options.withMargin) params.set("with_margin", "true");
    if (options.includeTies) params.set("include_ties", "true");
  }
  return `/api/snapshots/${snapshotId}/export?${params.toString()}`;
}

export const SPLITS = ["train", "validation", "test"] as const;
const TABLE_ORDER = ["pairs", "sft", "raw"];

export interface CountRow {
  table: string;
  train: number;
  validation: number;
  test: number;
  total: number;
}

function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

/** Rows per table and split from a snapshot's `counts` ({pairs: {train, validation, test}, …}). */
export function readCounts(counts: Record<string, unknown>): CountRow[] {
  const tables = Object.keys(counts).sort(
    (a, b) => (TABLE_ORDER.indexOf(a) + 1 || 99) - (TABLE_ORDER.indexOf(b) + 1 || 99) || a.localeCompare(b),
  );
  const rows: CountRow[] = [];
  for (const table of tables) {
    const perSplit = counts[table];
    if (typeof perSplit !== "object" || perSplit === null) continue;
    const split = perSplit as Record<string, unknown>;
    const row = { table, train: count(split.train), validation: count(split.validation), test: count(split.test) };
    rows.push({ ...row, total: row.train + row.validation + row.test });
  }
  return rows;
}

export function shortHash(hash: string): string {
  return hash.length > 12 ? hash.slice(0, 12) : hash;
}
