"""Export throughput and memory: a project with N preference pairs, snapshotted, then exported.

For each size (default 100,000 and 1,000,000 pairs) in a fresh SQLite database under a temporary
folder: a pairwise project with N prompts of two candidates each, items built by the service
(``build_items``), one label per item; a snapshot built by the snapshot builder; then the
``preference`` layout exported to JSONL and to Parquet, each in its own process so its peak RSS is its
own. Prints one line per step and, last:

    rows=<n> jsonl_rows_per_s=<x> parquet_rows_per_s=<x> peak_rss_mb=<x> rss_ratio=<x>

(rows/s and RSS of the largest size; rss_ratio = its peak RSS over the smallest size's).

    .venv/bin/python -m bench.export                     # 100k and 1M
    .venv/bin/python -m bench.export --sizes 20000       # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CHUNK = 50_000


def _seed(n: int) -> int:
    """Users, project, prompts, candidates, items and one label per item; returns the project id."""
    from sqlalchemy import insert, select

    from app.annotation.items import build_items
    from app.annotation.models import Assignment, Item, Label
    from app.auth import service as auth_service
    from app.auth.models import GlobalRole
    from app.auth.schemas import UserCreate
    from app.db import session_scope, utcnow
    from app.projects import service as project_service
    from app.projects.models import Project
    from app.projects.schemas import ProjectCreate
    from app.prompts.models import Candidate, Prompt

    rng = random.Random(0)
    now = utcnow()
    with session_scope() as s:
        admin = auth_service.create_user(
            s, UserCreate(username="admin", password="bench-password-1", role=GlobalRole.admin)
        )
        annotator = auth_service.create_user(s, UserCreate(username="ann", password="bench-password-1"))
        project = project_service.create_project(
            s, ProjectCreate(name="export bench", task_kind="pairwise"), created_by=admin.id
        )
        pid, uid = project.id, annotator.id
    for start in range(0, n, CHUNK):
        ids = range(start + 1, min(n, start + CHUNK) + 1)
        with session_scope() as s:
            s.execute(
                insert(Prompt),
                [
                    {
                        "id": i,
                        "project_id": pid,
                        "text": f"Question {i}: how do I keep a sourdough starter alive?",
                        "meta": {},
                        "created_at": now,
                    }
                    for i in ids
                ],
            )
            s.execute(
                insert(Candidate),
                [
                    {
                        "id": 2 * i - 1 + j,
                        "project_id": pid,
                        "prompt_id": i,
                        "source": {},
                        "meta": {},
                        "created_at": now,
                        "text": f"Answer {j} to {i}: feed it flour and water daily, keep it warm, discard half.",
                    }
                    for i in ids
                    for j in (0, 1)
                ],
            )
            owner = s.get(Project, pid)
            assert owner is not None
            build_items(s, owner, list(ids))
    with session_scope() as s:
        item_ids = list(s.scalars(select(Item.id).where(Item.project_id == pid).order_by(Item.id)))
    for start in range(0, len(item_ids), CHUNK):
        chunk = item_ids[start : start + CHUNK]
        with session_scope() as s:
            s.execute(
                insert(Assignment),
                [
                    {
                        "id": i,
                        "project_id": pid,
                        "item_id": i,
                        "user_id": uid,
                        "is_gold": False,
                        "state": "submitted",
                        "leased_at": now,
                        "expires_at": now,
                        "finished_at": now,
                    }
                    for i in chunk
                ],
            )
            s.execute(
                insert(Label),
                [
                    {
                        "id": i,
                        "project_id": pid,
                        "item_id": i,
                        "assignment_id": i,
                        "user_id": uid,
                        "is_gold": False,
                        "answer": {"choice": rng.choice("ab"), "strength": rng.randint(1, 3)},
                        "flags": [],
                        "time_spent_ms": 5000,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in chunk
                ],
            )
    return pid


def _build(pid: int, out: Path) -> dict[str, Any]:
    from app.datasets.builder import build_snapshot
    from app.datasets.models import Snapshot, SnapshotStatus
    from app.datasets.spec import SnapshotSpec
    from app.db import session_scope

    with session_scope() as s:
        snap = Snapshot(
            project_id=pid, name="bench", spec=SnapshotSpec().model_dump(mode="json"), status=SnapshotStatus.building
        )
        s.add(snap)
        s.flush()
        result = build_snapshot(s, snap, out)
    return result.counts


def child_prepare(n: int, folder: Path) -> None:
    """Runs with PREFLOOP_DATABASE_URL pointing into ``folder``."""
    from app.db import get_engine
    from app.migrate import upgrade

    upgrade(get_engine())
    t0 = time.perf_counter()
    pid = _seed(n)
    t1 = time.perf_counter()
    out = folder / "snapshot"
    out.mkdir()
    counts = _build(pid, out)
    t2 = time.perf_counter()
    print(
        json.dumps({"seed_s": round(t1 - t0, 1), "build_s": round(t2 - t1, 1), "pairs": sum(counts["pairs"].values())})
    )


def child_export(snapshot: Path, fmt: str, target: Path) -> None:
    from app.datasets.exports import iter_export

    t0 = time.perf_counter()
    rows_bytes = 0
    with target.open("wb") as f:
        for chunk in iter_export(snapshot, "preference", fmt):
            f.write(chunk)
            rows_bytes += len(chunk)
    seconds = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "bytes": rows_bytes, "peak_rss_mb": round(rss_mb, 1)}))


def _run(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.export", *args], env=env, check=True, capture_output=True, text=True
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--prepare", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--export", nargs=3, metavar=("SNAPSHOT", "FORMAT", "TARGET"), help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        child_prepare(args.prepare, args.folder)
        return
    if args.export:
        child_export(Path(args.export[0]), args.export[1], Path(args.export[2]))
        return
    results = []
    for n in sorted(args.sizes):
        with tempfile.TemporaryDirectory(prefix="prefloop-export-bench-") as tmp:
            folder = Path(tmp)
            env = {**os.environ, "PREFLOOP_DATABASE_URL": f"sqlite:///{folder}/db.sqlite", "PREFLOOP_DATA_DIR": tmp}
            prep = _run(["--prepare", str(n), "--folder", tmp], env)
            print(
                f"size={n} seed_s={prep['seed_s']} snapshot_build_s={prep['build_s']} pairs={prep['pairs']}", flush=True
            )
            line: dict[str, Any] = {"rows": prep["pairs"]}
            for fmt in ("jsonl", "parquet"):
                r = _run(["--export", str(folder / "snapshot"), fmt, str(folder / f"out.{fmt}")], env)
                line[f"{fmt}_rows_per_s"] = round(prep["pairs"] / r["seconds"])
                line[f"{fmt}_peak_rss_mb"] = r["peak_rss_mb"]
                print(
                    f"size={n} format={fmt} seconds={r['seconds']:.2f} rows_per_s={line[f'{fmt}_rows_per_s']} "
                    f"mb={r['bytes'] / 1e6:.0f} peak_rss_mb={r['peak_rss_mb']}",
                    flush=True,
                )
            results.append(line)
    small, big = results[0], results[-1]
    peak = max(big["jsonl_peak_rss_mb"], big["parquet_peak_rss_mb"])
    ratio = peak / max(small["jsonl_peak_rss_mb"], small["parquet_peak_rss_mb"])
    print(
        f"rows={big['rows']} jsonl_rows_per_s={big['jsonl_rows_per_s']} parquet_rows_per_s={big['parquet_rows_per_s']} "
        f"peak_rss_mb={peak} rss_ratio={ratio:.2f}"
    )


if __name__ == "__main__":
    main()
