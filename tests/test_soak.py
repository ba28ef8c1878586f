"""The soak benchmark's short version: `python -m bench.soak` with few annotators for a few seconds.

It starts its own API server and Celery worker on a database of its own (a fresh PostgreSQL database
when the test run is on PostgreSQL, else its own SQLite file), labels while a generation job adds items
and checks the database. Only the outcome is asserted, never how fast it was.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import PG_URL, ROOT, _create_pg_database, _drop_pg_database

LAST_LINE = re.compile(
    r"annotators=(?P<annotators>\d+) seconds=(?P<seconds>\d+) labels=(?P<labels>\d+) lost=(?P<lost>\d+) "
    r"duplicates=(?P<duplicates>\d+) over_assigned=(?P<over_assigned>\d+) server_errors=(?P<server_errors>\d+)"
)


def test_short_soak_loses_nothing(tmp_path: Path) -> None:
    workdir = tmp_path / "soak"
    argv = [sys.executable, "-m", "bench.soak", "--seconds", "8", "--annotators", "30", "--workdir", str(workdir)]
    # Its own database and its own SQLite-backed broker: a shared Redis would hand its tasks to other workers.
    database_url = _create_pg_database(PG_URL) if PG_URL else ""
    if database_url:
        argv += ["--database-url", database_url]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFLOOP_")}
    try:
        proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    finally:
        if database_url:
            _drop_pg_database(database_url)

    logs = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-4000:]}" for p in sorted(workdir.glob("*.log")))
    report = f"exit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr[-4000:]}\n{logs}"
    assert proc.returncode == 0, report
    last = proc.stdout.strip().splitlines()[-1]
    found = LAST_LINE.fullmatch(last)
    assert found is not None, report
    counts = {name: int(value) for name, value in found.groupdict().items()}
    assert counts["annotators"] == 30 and counts["seconds"] == 8, report
    assert counts["labels"] > 0, report
    assert counts["lost"] == counts["duplicates"] == counts["over_assigned"] == counts["server_errors"] == 0, report
    # The generation job ran beside the annotators and was stopped (or had finished) at the end.
    assert re.search(r"generation +job \d+ (cancelled|succeeded), \d+/\d+ prompts", proc.stdout), report
