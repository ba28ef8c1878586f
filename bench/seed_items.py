"""Seed a project with prompts, candidates and items straight into PostgreSQL (fast, for benchmarks).

The import endpoint is the normal way to load data; this is for item counts where going through HTTP
would dominate the benchmark set-up (1,000,000 items seed in well under two minutes). Rows are exactly
what an import would make:

* prompts and candidates are streamed with ``COPY ... FROM STDIN`` (ids reserved from the tables'
  sequences first, so the rows can reference each other without a round trip per row);
* items are made either by the app's own ``build_items`` (``--items-via build_items``) or, by default,
  by streaming the groups that ``app.annotation.grouping.plan_groups`` - the pure function
  ``build_items`` itself uses - plans for each prompt (``--items-via copy``), so group keys, display
  orders, overlap and ``open_slots`` are the same either way;
* the tables are ``ANALYZE``d at the end so the planner sees the new row counts at once.

Usage (the project must exist, e.g. made through ``POST /api/projects``)::

    PREFLOOP_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/bench_x \\
        .venv/bin/python -m bench.seed_items --project-id 1 --items 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Engine, create_engine, select, text

CHUNK = 50_000
"""Prompts per COPY round: bounds memory at any item count."""

ItemsVia = Literal["copy", "build_items"]


@dataclass(frozen=True, slots=True)
class SeedReport:
    prompts: int
    candidates: int
    items: int
    seconds: float

    def line(self) -> str:
        rate = self.items / self.seconds if self.seconds else 0.0
        return (
            f"seeded prompts={self.prompts} candidates={self.candidates} items={self.items} "
            f"in {self.seconds:.1f}s ({rate:,.0f} items/s)"
        )


def prompt_text(i: int, chars: int) -> str:
    head = f"Prompt {i}: which of the two answers explains the idea better? "
    return (head + "lorem ipsum dolor sit amet " * (1 + chars // 27))[: max(chars, len(head))]


def candidate_text(i: int, j: int, chars: int) -> str:
    head = f"Answer {i}.{j}: "
    return (head + "consectetur adipiscing elit sed do eiusmod " * (1 + chars // 43))[: max(chars, len(head))]


def _reserve_ids(conn: Any, table: str, n: int) -> range:
    """Take ``n`` consecutive ids from the table's sequence.

    The table lock (held until the chunk commits) keeps concurrent inserts from drawing ids from the
    sequence in between; moving the sequence by ``n`` at once costs one round trip instead of ``n``.
    """
    with conn.cursor() as cur:
        cur.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
        cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", (table,))
        seq = cur.fetchone()[0]
        cur.execute("SELECT nextval(%s)", (seq,))
        first = int(cur.fetchone()[0])
        cur.execute("SELECT setval(%s, %s)", (seq, first + n - 1))
    return range(first, first + n)


def _lap(phases: dict[str, float], name: str, since: float) -> float:
    now = time.perf_counter()
    phases[name] += now - since
    return now


def _chunks(total: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, total, size):
        yield start, min(total, start + size)


def seed_project(
    engine: Engine,
    project_id: int,
    n_prompts: int,
    *,
    candidates_per_prompt: int | None = None,
    text_chars: int = 200,
    items_via: ItemsVia = "copy",
    start_index: int = 0,
    progress: bool = True,
) -> SeedReport:
    """Add ``n_prompts`` prompts with ``candidates_per_prompt`` candidates each, and their items.

    With the default ``candidates_per_prompt`` (the project's candidates per item) each prompt makes
    exactly one item, so ``n_prompts`` is also the number of items.
    """
    if engine.dialect.name != "postgresql":
        raise SystemExit("seed_items needs PostgreSQL (it uses COPY); use the import endpoint on SQLite")
    from app.annotation.grouping import plan_groups
    from app.projects.models import Grouping, Project

    t0 = time.perf_counter()
    with engine.connect() as sa_conn:
        row = sa_conn.execute(
            select(
                Project.candidates_per_item,
                Project.grouping,
                Project.max_items_per_prompt,
                Project.seed,
                Project.overlap,
            ).where(Project.id == project_id)
        ).first()
    if row is None:
        raise SystemExit(f"project {project_id} not found")
    size, grouping, cap, seed, overlap = int(row[0]), Grouping(row[1]), int(row[2]), int(row[3]), int(row[4])
    per_prompt = candidates_per_prompt or size
    now = datetime.now(UTC)
    n_items = 0
    phases: dict[str, float] = dict.fromkeys(("ids", "prompts", "candidates", "items", "commit"), 0.0)
    raw = engine.raw_connection()
    try:
        conn: Any = raw.driver_connection
        for lo, hi in _chunks(n_prompts, CHUNK):
            count = hi - lo
            t = time.perf_counter()
            prompt_ids = _reserve_ids(conn, "prompts", count)
            cand_ids = _reserve_ids(conn, "candidates", count * per_prompt)
            t = _lap(phases, "ids", t)
            with conn.cursor() as cur:
                with cur.copy(
                    "COPY prompts (id, project_id, external_id, text, metadata, created_at) FROM STDIN"
                ) as copy:
                    for k, pid in enumerate(prompt_ids):
                        i = start_index + lo + k
                        copy.write_row((pid, project_id, f"p{i}", prompt_text(i, text_chars // 2), "{}", now))
                t = _lap(phases, "prompts", t)
                with cur.copy(
                    "COPY candidates (id, project_id, prompt_id, external_id, text, source, metadata, created_at) "
                    "FROM STDIN"
                ) as copy:
                    for k, pid in enumerate(prompt_ids):
                        i = start_index + lo + k
                        for j in range(per_prompt):
                            cid = cand_ids[k * per_prompt + j]
                            copy.write_row(
                                (cid, project_id, pid, f"c{j}", candidate_text(i, j, text_chars), '{"bench": true}',
                                 "{}", now)
                            )  # fmt: skip
                t = _lap(phases, "candidates", t)
                if items_via == "copy":
                    with cur.copy(
                        "COPY items (project_id, prompt_id, candidate_ids, group_key, is_gold, priority, overlap, "
                        "labels_done, open_slots, created_at) FROM STDIN"
                    ) as copy:
                        for k, pid in enumerate(prompt_ids):
                            ids = cand_ids[k * per_prompt : (k + 1) * per_prompt]
                            for group in plan_groups(
                                ids,
                                size=size,
                                grouping=grouping,
                                cap=cap,
                                seed=seed,
                                prompt_id=pid,
                                existing_keys=set(),
                                used_ids=set(),
                            ):
                                copy.write_row(
                                    (project_id, pid, json.dumps(list(group.display_order)), group.key, False, 0,
                                     overlap, 0, overlap, now)
                                )  # fmt: skip
                                n_items += 1
                    t = _lap(phases, "items", t)
            conn.commit()
            t = _lap(phases, "commit", t)
            if items_via == "build_items":
                from sqlalchemy.orm import Session

                from app.annotation.items import build_items

                with Session(engine) as session:
                    project = session.get(Project, project_id)
                    assert project is not None
                    n_items += build_items(session, project, prompt_ids)
                    session.commit()
                t = _lap(phases, "items", t)
            if progress:
                spent = ", ".join(f"{k} {v:.1f}s" for k, v in phases.items())
                print(
                    f"  seeded {hi:,}/{n_prompts:,} prompts, {n_items:,} items ({spent})", file=sys.stderr, flush=True
                )
        with conn.cursor() as cur:
            for table in ("prompts", "candidates", "items"):
                cur.execute(f"ANALYZE {table}")
        conn.commit()
    finally:
        raw.close()
    return SeedReport(n_prompts, n_prompts * per_prompt, n_items, time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("PREFLOOP_DATABASE_URL", ""))
    parser.add_argument("--project-id", type=int, required=True)
    parser.add_argument("--items", type=int, default=10_000, help="Prompts to add (one item each by default).")
    parser.add_argument("--candidates-per-prompt", type=int, default=None)
    parser.add_argument("--text-chars", type=int, default=200, help="Length of each candidate's text.")
    parser.add_argument("--items-via", choices=["copy", "build_items"], default="copy")
    parser.add_argument("--start-index", type=int, default=0, help="First prompt number (external ids p<N>).")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("give --database-url or set PREFLOOP_DATABASE_URL")
    engine = create_engine(args.database_url)
    with engine.connect() as conn:  # fail early with a clear message when the schema is missing
        conn.execute(text("SELECT 1 FROM items LIMIT 0"))
    report = seed_project(
        engine,
        args.project_id,
        args.items,
        candidates_per_prompt=args.candidates_per_prompt,
        text_chars=args.text_chars,
        items_via=args.items_via,
        start_index=args.start_index,
    )
    print(report.line())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
