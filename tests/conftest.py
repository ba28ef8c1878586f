"""Shared fixtures: a migrated database per test run (SQLite by default, PostgreSQL when
PREFLOOP_TEST_DATABASE_URL is set), emptied between tests; an in-process client; a live server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from app import config, db
from app.all_models import Base
from app.jobs import broker
from app.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("PREFLOOP_TEST_DATABASE_URL", "")
BROKER_URL = os.environ.get("PREFLOOP_TEST_BROKER_URL", "")


def _create_pg_database(base_url: str) -> str:
    url = make_url(base_url)
    name = f"prefloop_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _drop_pg_database(url_str: str) -> None:
    url = make_url(url_str)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if PG_URL:
        url = _create_pg_database(PG_URL)
        yield url
        _drop_pg_database(url)
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'prefloop.db'}"


@pytest.fixture(scope="session")
def settings_env(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    data_dir = tmp_path_factory.mktemp("data")
    env = {
        "PREFLOOP_ENVIRONMENT": "test",
        "PREFLOOP_DATABASE_URL": database_url,
        "PREFLOOP_DATA_DIR": str(data_dir),
        "PREFLOOP_SECRET_KEY": "test-secret",
        "PREFLOOP_BROKER_URL": BROKER_URL or f"sqla+sqlite:///{data_dir / 'broker.db'}",
        "PREFLOOP_JOB_HEARTBEAT_SECONDS": "0.5",
        "PREFLOOP_JOB_STALE_SECONDS": "3",
    }
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    config.get_settings.cache_clear()
    db.get_engine.cache_clear()
    broker._client.cache_clear()
    if BROKER_URL.startswith("redis"):
        import redis

        redis.Redis.from_url(BROKER_URL).flushdb()
    yield env
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    config.get_settings.cache_clear()
    db.get_engine.cache_clear()


@pytest.fixture(scope="session")
def engine(settings_env: dict[str, str]) -> Engine:
    eng = db.get_engine()
    upgrade(eng)
    return eng


@pytest.fixture(autouse=True)
def _clean_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    """Empty every table after each test that touched the database (tests over real HTTP can't roll back)."""
    yield
    if "engine" not in request.fixturenames:
        return
    eng: Engine = request.getfixturevalue("engine")
    shutil.rmtree(config.get_settings().resolved_artifact_dir, ignore_errors=True)
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with eng.begin() as conn:
        if eng.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))


@pytest.fixture
def app_client(engine: Engine) -> Iterator[httpx.Client]:
    from fastapi.testclient import TestClient

    from app.main import create_app

    with TestClient(create_app(), base_url="http://testserver") as client:
        yield client


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live_server(engine: Engine, settings_env: dict[str, str]) -> Iterator[str]:
    """A real uvicorn process on the test database, for tests that need real HTTP and real concurrency."""
    port = _free_port()
    env = {**os.environ, **settings_env}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        proc.kill()
        raise RuntimeError("server did not start")
    yield base
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


class WorkerProcess:
    """A real Celery worker process (solo pool: one process, so kill -9 kills the whole worker)."""

    def __init__(self, env: dict[str, str], log_path: Path, queues: str = "cpu,gpu") -> None:
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "-P", "solo",
             "-Q", queues, "--loglevel", "INFO", "-n", f"test-{uuid.uuid4().hex[:6]}@%h", "--without-heartbeat",
             "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while "ready." not in self.log():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start:\n{self.log()}")
            time.sleep(0.2)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill9(self) -> None:
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self._log.close()


@pytest.fixture
def start_worker(engine: Engine, settings_env: dict[str, str], tmp_path: Path) -> Iterator[object]:
    """Start real worker processes on the test database and broker; all are stopped afterwards."""
    workers: list[WorkerProcess] = []

    def _start(queues: str = "cpu,gpu") -> WorkerProcess:
        env = {**os.environ, **settings_env}
        w = WorkerProcess(env, tmp_path / f"worker{len(workers)}.log", queues)
        workers.append(w)
        return w

    yield _start
    for w in workers:
        w.stop()
