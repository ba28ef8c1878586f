"""Fault-injection fixtures: an API server that can be killed -9 and restarted on the same database and
port, the tiny model, and the setup a training job needs (a labelled project, a ready snapshot and a
registered base model), all against real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from app.db import session_scope
from app.registry.models import ModelKind, ModelStatus, ModelVersion
from tests.conftest import ROOT, _free_port
from tests.factories import add_member, add_prompts, auth, make_project, make_user
from tests.workers.conftest import TEST_TINY_CONFIG
from workers.ml.tiny import build_tiny_model

TERMINAL = ("succeeded", "failed", "cancelled")


class RestartableServer:
    """A real uvicorn process on a fixed port: ``kill9()`` it mid-request, ``start()`` it again."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self, timeout: float = 90) -> None:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(self.port),
                 "--log-level", "warning", "--no-access-log"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.proc.kill()
        raise RuntimeError(f"server did not start:\n{self.log()}")

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.kill()  # SIGKILL: no shutdown, no lifespan exit, open transactions die with the process
        self.proc.wait(30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture
def restartable_server(engine: Engine, settings_env: dict[str, str], tmp_path: Path) -> Iterator[RestartableServer]:
    """A started API server on the test database that the test may kill -9 and restart."""
    server = RestartableServer({**os.environ, **settings_env}, tmp_path / "server.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same tiny causal LM as tests/workers (built once per session, about 2 s)."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model") / "model", TEST_TINY_CONFIG)


def wait_job(
    client: httpx.Client,
    headers: dict[str, str],
    job_id: int,
    until: Callable[[dict[str, Any]], bool] = lambda job: job["state"] in TERMINAL,
    timeout: float = 240,
) -> dict[str, Any]:
    """Poll the job until ``until(job)``; generous timeout: the machine may be loaded."""
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = client.get(f"/api/jobs/{job_id}", headers=headers).json()
        if until(job):
            return job
        if job["state"] in TERMINAL:
            raise AssertionError(f"job ended before the awaited condition: {job}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for job {job_id}: {job}")
        time.sleep(0.1)


def register_base_model(path: Path) -> int:
    """A ready base version pointing at a local model folder (what a validated registration leaves)."""
    with session_scope() as s:
        version = ModelVersion(
            name="tiny", kind=ModelKind.base, status=ModelStatus.ready, source=str(path), metrics={}, info={}
        )
        s.add(version)
        s.flush()
        return version.id


def labelled_snapshot(
    client: httpx.Client, admin_id: int, headers: dict[str, str], prompts: int = 16
) -> tuple[int, int]:
    """A pairwise project labelled by one annotator ("the first answer wins") and a ready snapshot of it,
    built by the snapshot job on a running worker. Returns (project_id, snapshot_id)."""
    pid = make_project(task_kind="pairwise", overlap=1, created_by=admin_id)
    add_prompts(pid, prompts, 3)
    uid, token = make_user()
    add_member(pid, uid)
    while (r := client.post(f"/api/projects/{pid}/next", headers=auth(token))).status_code == 200:
        a = r.json()
        first = min(a["item"]["candidates"], key=lambda c: c["text"])["id"]
        choice = "a" if a["item"]["candidates"][0]["id"] == first else "b"
        label = client.post(
            f"/api/assignments/{a['id']}/label", json={"answer": {"choice": choice}}, headers=auth(token)
        )
        assert label.status_code == 201, label.text
    assert r.status_code == 204, r.text
    body = {"name": "faults", "spec": {"splits": {"train": 1.0, "validation": 0.0, "test": 0.0}}}
    created = client.post(f"/api/projects/{pid}/snapshots", json=body, headers=headers)
    assert created.status_code == 201, created.text
    job = wait_job(client, headers, created.json()["job_id"])
    assert job["state"] == "succeeded", job
    return pid, created.json()["id"]
