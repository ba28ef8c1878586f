"""`prefloop up` on a fresh data directory: migrates, creates the first admin, serves the API and runs a
real Celery worker on the SQLite-backed broker."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import ROOT, _free_port


def _wait_for(pattern: str, log: Path, timeout: float) -> re.Match[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(pattern, log.read_text(errors="replace"))
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"{pattern!r} not in output:\n{log.read_text(errors='replace')}")


def test_up_starts_api_and_worker_on_the_embedded_default(tmp_path: Path) -> None:
    port = _free_port()
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFLOOP_")}
    env.update(PREFLOOP_DATA_DIR=str(data), PYTHONUNBUFFERED="1")
    log = tmp_path / "up.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "up", "--port", str(port), "--no-build-ui", "--no-demo-models"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        login = _wait_for(r"Log in as 'admin' with password '([^']+)'", log, 60)
        _wait_for(r"prefloop@\S+ ready", log, 60)
        assert f"http://127.0.0.1:{port}/" in log.read_text()
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        client = httpx.Client(base_url=base)
        r = client.post("/api/auth/login", json={"username": "admin", "password": login.group(1)})
        assert r.status_code == 200 and r.json()["role"] == "admin"
        csrf = {"X-CSRF-Token": r.json()["csrf_token"]}
        # The demo project is there and can be labelled at once.
        projects = client.get("/api/projects").json()
        assert [p["name"] for p in projects] == ["Demo: which answer is better?"]
        item = client.post(f"/api/projects/{projects[0]['id']}/next", headers=csrf)
        assert item.status_code == 200 and len(item.json()["item"]["candidates"]) == 2
        assert (data / "prefloop.db").exists()

        # The worker really consumes from the SQLite broker.
        subprocess.run(
            [sys.executable, "-c", "from workers.tasks.system import ping; ping.delay()"],
            cwd=ROOT, env=env, check=True, timeout=60,
        )  # fmt: skip
        _wait_for(r"Task prefloop.ping\[[^\]]+\] succeeded", log, 60)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    # A second start reuses the database and prints the same login.
    assert (data / "admin-password.txt").read_text().strip() == login.group(1)
