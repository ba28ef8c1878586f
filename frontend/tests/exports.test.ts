import { describe, expect, it } from "vitest";
import { exportUrl, readCounts, shortHash } from "../src/datasets/exports";

describe("snapshot exports", () => {
  it("builds download links, with margin and tie options only for preference layouts", () => {
    const opts = { split: "" as const, withMargin: true, includeTies: true };
    expect(exportUrl(5, "preference", "jsonl", opts)).toBe(
      "/api/snapshots/5/export?layout=preference&format=jsonl&with_margin=true&include_ties=true",
    );
    expect(exportUrl(5, "pairs", "datasets", { ...opts, split: "test" })).toBe(
      "/api/snapshots/5/export?layout=pairs&format=datasets&split=test",
    );
    expect(exportUrl(5, "sft", "csv", { split: "", withMargin: false, includeTies: false })).toBe(
      "/api/snapshots/5/export?layout=sft&format=csv",
    );
  });

  it("reads counts per table and split, pairs first", () => {
    const rows = readCounts({ raw: { train: 6, validation: 0, test: 2 }, pairs: { train: 3, test: 1 }, junk: 4 });
    expect(rows).toEqual([
      { table: "pairs", train: 3, validation: 0, test: 1, total: 4 },
      { table: "raw", train: 6, validation: 0, test: 2, total: 8 },
    ]);
    expect(readCounts({})).toEqual([]);
  });

  it("shortens hashes", () => {
    expect(shortHash("a".repeat(64))).toBe("a".repeat(12));
    expect(shortHash("abc")).toBe("abc");
  });
});
