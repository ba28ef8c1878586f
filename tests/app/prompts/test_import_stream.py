"""A million-row import streams: the process's peak memory barely moves while the file is read and written.

The import runs in a child process so that its peak RSS (``ru_maxrss``) is its own: in the test process
earlier tests may already have set a higher peak, which would make any delta read as zero.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.app.prompts.helpers import counts
from tests.factories import make_project

ROOT = Path(__file__).resolve().parents[3]
ROWS = 1_000_000
WARMUP_ROWS = 5_000
MAX_GROWTH_MB = 64

CHILD = """
import json, resource, sys, time
from app.db import session_scope
from app.projects.models import Project
from app.prompts.service import import_file

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux

project_id, warmup, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
# A small import first, so imports, compiled statements and one full batch are in the baseline.
with session_scope() as session:
    import_file(session, session.get(Project, project_id), warmup)
base = peak_mb()
start = time.perf_counter()
with session_scope() as session:
    report = import_file(session, session.get(Project, project_id), path)
seconds = time.perf_counter() - start
print(json.dumps({"report": report.model_dump(), "seconds": seconds, "base_mb": base, "peak_mb": peak_mb()}))
"""


def _write_rows(path: Path, first: int, count: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        for i in range(first, first + count):
            row = {"id": f"p{i}", "prompt": f"Question {i}: what comes after {i}?", "candidates": [f"{i + 1}."]}
            out.write(json.dumps(row) + "\n")


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_a_million_rows_import_in_flat_memory(engine: Engine, tmp_path: Path) -> None:
    project_id = make_project(task_kind="rating")
    warmup, big = tmp_path / "warmup.jsonl", tmp_path / "million.jsonl"
    _write_rows(warmup, ROWS, WARMUP_ROWS)
    _write_rows(big, 0, ROWS)
    file_mb = big.stat().st_size / 2**20

    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(project_id), str(warmup), str(big)],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    growth = result["peak_mb"] - result["base_mb"]
    print(
        f"\n{ROWS:,} rows ({file_mb:.0f} MiB) in {result['seconds']:.0f}s = {ROWS / result['seconds']:,.0f} rows/s; "
        f"peak RSS {result['base_mb']:.0f} -> {result['peak_mb']:.0f} MiB (+{growth:.1f})"
    )
    assert result["report"] == {
        "rows": ROWS,
        "prompts_created": ROWS,
        "prompts_existing": 0,
        "candidates_created": ROWS,
        "items_created": ROWS,
    }
    assert counts(engine, project_id) == (ROWS + WARMUP_ROWS,) * 3
    assert growth < MAX_GROWTH_MB < file_mb
