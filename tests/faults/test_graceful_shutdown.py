"""Graceful shutdown. The API: on SIGTERM, a download in flight finishes whole, new connections are
refused, and the process exits cleanly (``prefloop serve --grace-seconds``). A worker: on SIGTERM it
takes no new job and finishes the one it runs."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import Engine

from app.artifacts import store
from app.auth.models import GlobalRole
from app.db import session_scope, utcnow
from app.jobs.models import Job
from app.jobs.states import JobState
from tests.conftest import ROOT, _free_port
from tests.factories import auth, make_user

SIZE = 48 * 1024 * 1024  # far more than the socket buffers hold: the server is mid-send when SIGTERM comes


def _job_with_a_big_artifact(user_id: int) -> tuple[int, str]:
    with session_scope() as s:
        job = Job(
            kind="smoke",
            state=JobState.succeeded,
            params={},
            result={},
            created_by=user_id,
            task_id=uuid.uuid4().hex,
            attempts=1,
            progress_done=1,
            cancel_requested=False,
            finished_at=utcnow(),
        )
        s.add(job)
        s.flush()
        job_id = int(job.id)
    data = os.urandom(SIZE)
    store.write_bytes(job_id, "big.bin", data)
    return job_id, hashlib.sha256(data).hexdigest()


def test_sigterm_lets_a_download_in_flight_finish(engine: Engine, settings_env: dict[str, str], tmp_path: Path) -> None:
    admin_id, token = make_user(GlobalRole.admin)
    job_id, digest = _job_with_a_big_artifact(admin_id)
    port = _free_port()
    log = (tmp_path / "api.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--grace-seconds", "30"],
        cwd=ROOT, env={**os.environ, **settings_env}, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "api.log").read_text()
            time.sleep(0.1)

        sha = hashlib.sha256()
        received = 0
        with (
            httpx.Client(base_url=base, headers=auth(token), timeout=60) as client,
            client.stream("GET", f"/api/jobs/{job_id}/artifacts/big.bin") as response,
        ):
            assert response.status_code == 200
            chunks = response.iter_bytes(64 * 1024)
            first = next(chunks)  # the response has started: the request is in flight
            sha.update(first)
            received += len(first)
            proc.send_signal(signal.SIGTERM)
            # New connections are refused while the download goes on.
            refused = False
            deadline = time.monotonic() + 30
            while not refused and time.monotonic() < deadline:
                try:
                    httpx.get(f"{base}/healthz", timeout=2)
                    time.sleep(0.1)
                except httpx.HTTPError:
                    refused = True
            for chunk in chunks:
                sha.update(chunk)
                received += len(chunk)
        assert refused, "the server kept accepting connections after SIGTERM"
        assert received == SIZE and sha.hexdigest() == digest
        # uvicorn re-raises the SIGTERM it handled once it has shut down: that exit status is the clean one.
        assert proc.wait(60) in (0, -signal.SIGTERM), (tmp_path / "api.log").read_text()
        assert "Traceback" not in (tmp_path / "api.log").read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        log.close()


def test_sigterm_to_a_worker_lets_its_running_job_finish(
    app_client: httpx.Client, start_worker: Callable[..., Any]
) -> None:
    worker = start_worker()
    _, admin = make_user(GlobalRole.admin)
    h = auth(admin)
    body = {"kind": "smoke", "params": {"steps": 20, "step_seconds": 0.1}}
    job_id = app_client.post("/api/jobs", json=body, headers=h).json()["id"]
    deadline = time.monotonic() + 60
    while app_client.get(f"/api/jobs/{job_id}", headers=h).json()["progress_done"] < 2:
        assert time.monotonic() < deadline, "the job did not start"
        time.sleep(0.1)

    worker.proc.send_signal(signal.SIGTERM)  # Celery's warm shutdown: no new task, the running one finishes
    assert worker.proc.wait(120) == 0, worker.log()[-3000:]
    job = app_client.get(f"/api/jobs/{job_id}", headers=h).json()
    assert (job["state"], job["attempts"], job["progress_done"]) == ("succeeded", 1, 20), job
