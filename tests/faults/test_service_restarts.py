"""Restarting the services Prefloop depends on, under load, with the real servers (CI's PostgreSQL + Redis pass).

- PostgreSQL restarts while annotators submit: the API recovers by itself (the hot path's pool drops a
  broken connection and delegates the request; the general pool is invalidated at its first failure and
  pings connections that sat idle) and answers no 5xx once the database is back; every label it
  acknowledged is stored.
- Redis (which keeps nothing on disk) restarts with one job running and others queued: the queued jobs'
  messages are gone, the reaper re-sends them from the database, and every job finishes; none stays stuck.

Each test starts the service again whatever happens (the rest of the suite needs it).
"""

from __future__ import annotations

import contextlib
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import redis
from sqlalchemy import func, select

from app.annotation.models import Label
from app.auth.models import GlobalRole
from app.config import get_settings
from app.db import session_scope
from tests.conftest import BROKER_URL, PG_URL
from tests.factories import add_member, add_prompts, auth, make_project, make_user


def _pg_ctl(action: str) -> None:
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", "15", "main", action], check=False, timeout=120)


@pytest.fixture
def restartable_postgres() -> Iterator[Callable[[], None]]:
    if not PG_URL:
        pytest.skip("PREFLOOP_TEST_DATABASE_URL not set")
    yield lambda: _pg_ctl("restart")
    _pg_ctl("start")  # a no-op when it runs


def _redis_up() -> bool:
    try:
        return bool(redis.Redis(host="127.0.0.1", port=6379, socket_timeout=1).ping())
    except redis.RedisError:
        return False


def _start_redis() -> None:
    if not _redis_up():
        subprocess.run(
            ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", "6379",
             "--save", "", "--appendonly", "no"],
            check=True,
            timeout=30,
        )  # fmt: skip
    deadline = time.monotonic() + 30
    while not _redis_up():
        assert time.monotonic() < deadline, "redis did not come back"
        time.sleep(0.1)


@pytest.fixture
def restartable_redis() -> Iterator[Callable[[], None]]:
    if not BROKER_URL.startswith("redis://127.0.0.1:6379"):
        pytest.skip("PREFLOOP_TEST_BROKER_URL is not the local Redis")

    def restart() -> None:
        with contextlib.suppress(redis.ConnectionError):  # the server closes the connection as it stops
            redis.Redis(host="127.0.0.1", port=6379).shutdown(nosave=True)
        deadline = time.monotonic() + 30
        while _redis_up():
            assert time.monotonic() < deadline, "redis did not stop"
            time.sleep(0.1)
        _start_redis()

    yield restart
    _start_redis()


def _wait_ready(base: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{base}/readyz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "the API did not become ready again"
        time.sleep(0.2)


def test_api_recovers_by_itself_after_postgres_restarts(
    live_server: str, restartable_postgres: Callable[[], None]
) -> None:
    project = make_project(task_kind="pairwise", overlap=1)
    add_prompts(project, n_prompts=1500, candidates_per_prompt=2)  # more than the run can label
    annotators = []
    for i in range(6):
        user_id, token = make_user(username=f"pg-restart-{i}")
        add_member(project, user_id)
        annotators.append(auth(token))

    phase = {"after_ready": False}
    stop = threading.Event()
    acknowledged: list[int] = []  # assignment ids whose label got a 2xx
    late_5xx: list[tuple[str, int, str]] = []
    lock = threading.Lock()

    def annotate(headers: dict[str, str]) -> None:
        with httpx.Client(base_url=live_server, headers=headers, timeout=30) as client:
            while not stop.is_set():
                checked = phase["after_ready"]  # only requests sent once the API said ready are held to no 5xx
                try:
                    nxt = client.post(f"/api/projects/{project}/next")
                    if nxt.status_code >= 500 and checked:
                        late_5xx.append(("next", nxt.status_code, nxt.text[:200]))
                    if nxt.status_code != 200:
                        time.sleep(0.05)
                        continue
                    assignment = nxt.json()["id"]
                    body = {"answer": {"choice": "a", "strength": 2}}
                    sent = client.post(f"/api/assignments/{assignment}/label", json=body)
                    if sent.status_code >= 500 and checked:
                        late_5xx.append(("label", sent.status_code, sent.text[:200]))
                    if 200 <= sent.status_code < 300:
                        with lock:
                            acknowledged.append(assignment)
                    time.sleep(0.05)  # reading time: items last through the restart
                except httpx.TransportError:
                    time.sleep(0.05)  # the server is up; only a request in flight at the restart can fail so

    threads = [threading.Thread(target=annotate, args=(h,)) for h in annotators]
    for t in threads:
        t.start()
    try:
        time.sleep(1.0)
        restartable_postgres()
        _wait_ready(live_server)
        phase["after_ready"] = True
        before = len(acknowledged)
        time.sleep(2.0)
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    assert not late_5xx, late_5xx[:5]
    assert len(acknowledged) > before, "no label was stored after the restart"
    with session_scope(write=False) as s:
        stored = s.scalar(select(func.count()).select_from(Label).where(Label.assignment_id.in_(acknowledged)))
    assert stored == len(set(acknowledged)) == len(acknowledged)


def _job(client: httpx.Client, headers: dict[str, str], job_id: int) -> dict[str, Any]:
    return dict(client.get(f"/api/jobs/{job_id}", headers=headers).json())


def test_no_job_is_lost_or_stuck_when_redis_restarts(
    app_client: httpx.Client,
    start_worker: Callable[..., Any],
    restartable_redis: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    start_worker()  # one solo worker: one job runs, the others wait in the queue
    _, admin = make_user(GlobalRole.admin)
    h = auth(admin)

    def smoke(steps: int) -> int:
        body = {"kind": "smoke", "params": {"steps": steps, "step_seconds": 0.1}}
        return int(app_client.post("/api/jobs", json=body, headers=h).json()["id"])

    running, queued = smoke(30), [smoke(3), smoke(3)]
    deadline = time.monotonic() + 60
    while _job(app_client, h, running)["progress_done"] < 2:
        assert time.monotonic() < deadline, _job(app_client, h, running)
        time.sleep(0.1)
    assert all(_job(app_client, h, j)["state"] == "queued" for j in queued)

    restartable_redis()  # the queued jobs' messages are gone with it

    # The API process's reaper (every 30 s) re-sends queued jobs nobody picked up for job_resend_seconds;
    # here the window is 1 s and the reaper is called directly so the test needn't wait for its timer.
    monkeypatch.setattr(get_settings(), "job_resend_seconds", 1.0)
    jobs = [running, *queued]
    deadline = time.monotonic() + 120
    resent = 0
    while any(_job(app_client, h, j)["state"] not in ("succeeded", "failed", "cancelled") for j in jobs):
        assert time.monotonic() < deadline, [_job(app_client, h, j) for j in jobs]
        time.sleep(1.5)
        resent += app_client.post("/api/jobs/reap", headers=h).json()["resent"]
    states = {j: _job(app_client, h, j)["state"] for j in jobs}
    assert set(states.values()) == {"succeeded"}, states
    assert resent >= len(queued)  # they were re-sent from the database, not found in the broker
