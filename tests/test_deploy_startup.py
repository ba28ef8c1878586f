"""The production start-up sequence of compose.yaml, without containers.

compose runs ``prefloop db upgrade`` once (the ``migrate`` service), then ``prefloop serve`` with
PREFLOOP_ENVIRONMENT=production and a real secret; the first admin comes from ``prefloop admin create``
(docs/deploy.md). Here the same commands run as subprocesses against a fresh database (a new
PostgreSQL database when PREFLOOP_TEST_DATABASE_URL is set, else a SQLite file), from an empty
working directory (no .env), with no PREFLOOP_* variable but the ones a deployment sets.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app.config import DEFAULT_SECRET
from tests.conftest import BROKER_URL, PG_URL, _create_pg_database, _drop_pg_database, _free_port

pytestmark = pytest.mark.timeout(90)

ROOT = Path(__file__).resolve().parent.parent
STATIC_INDEX = ROOT / "app" / "static" / "index.html"
SECRET = "a-real-production-secret-0123456789abcdef"
ADMIN, ADMIN_PASSWORD = "admin", "first-admin-password-42"
_script = Path(sys.executable).with_name("prefloop")
PREFLOOP = [str(_script)] if _script.exists() else [sys.executable, "-m", "app.cli"]


def production_env(data_dir: Path, database_url: str, **extra: str) -> dict[str, str]:
    """The process environment of a container: no PREFLOOP_* from this test session, only these."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFLOOP_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.update(
        PREFLOOP_ENVIRONMENT="production",
        PREFLOOP_DATABASE_URL=database_url,
        PREFLOOP_BROKER_URL=BROKER_URL or f"sqla+sqlite:///{data_dir / 'broker.db'}",
        PREFLOOP_DATA_DIR=str(data_dir),
        PREFLOOP_ARTIFACT_DIR=str(data_dir / "artifacts"),
    )
    env.update(extra)
    return env


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PREFLOOP, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60, check=False)


class Server:
    """``prefloop serve`` as compose's api service runs it (bound to the loopback here)."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = cwd / f"serve-{self.port}.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [*PREFLOOP, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def wait_healthy(self, seconds: float = 30) -> bool:
        """True once /healthz answers 200; False if the process exits first."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"prefloop serve neither answered nor exited in {seconds} s:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@dataclass
class Deployment:
    base: str
    migrate_output: str


@pytest.fixture(scope="module")
def fresh_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if PG_URL:
        url = _create_pg_database(PG_URL)
        yield url
        _drop_pg_database(url)
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('deploy-db') / 'prefloop.db'}"


@pytest.fixture(scope="module")
def deployment(fresh_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """migrate, the first admin, then the API in production mode."""
    workdir = tmp_path_factory.mktemp("deploy")
    env = production_env(workdir / "data", fresh_database_url, PREFLOOP_SECRET_KEY=SECRET)
    migrated = run_cli(["db", "upgrade"], env, workdir)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    server = Server(env, workdir)  # starts while the admin is created (as `docker compose run` would)
    try:
        created = run_cli(["admin", "create", "--username", ADMIN, "--password", ADMIN_PASSWORD], env, workdir)
        assert created.returncode == 0, created.stdout + created.stderr
        assert server.wait_healthy(), f"prefloop serve exited:\n{server.output()}"
        yield Deployment(server.base, migrated.stdout)
    finally:
        server.stop()


def test_migrate_reaches_head(deployment: Deployment) -> None:
    assert "database at head" in deployment.migrate_output


def test_healthz(deployment: Deployment) -> None:
    response = httpx.get(f"{deployment.base}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_serves_the_ui_index(deployment: Deployment) -> None:
    if not STATIC_INDEX.exists():
        pytest.skip("the web UI is not built (app/static/index.html); scripts/test builds it")
    for path in ("/", "/projects"):  # the SPA fallback serves index.html for the UI's own routes
        response = httpx.get(f"{deployment.base}{path}")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert response.text == STATIC_INDEX.read_text()


def test_ready_after_migrate(deployment: Deployment) -> None:
    response = httpx.get(f"{deployment.base}/readyz")
    if response.status_code == 404:
        pytest.skip("this version has no /readyz")
    assert response.status_code == 200, response.text
    assert response.json()["database"] == "ok"


def test_api_needs_a_login(deployment: Deployment) -> None:
    response = httpx.get(f"{deployment.base}/api/auth/me")
    assert response.status_code == 401
    assert httpx.get(f"{deployment.base}/api/no-such-route").status_code == 404


def test_first_admin_logs_in_with_a_secure_cookie(deployment: Deployment) -> None:
    response = httpx.post(f"{deployment.base}/api/auth/login", json={"username": ADMIN, "password": ADMIN_PASSWORD})
    assert response.status_code == 200, response.text
    assert response.json()["username"] == ADMIN
    cookie = response.headers["set-cookie"].lower()
    assert "secure" in cookie  # production: cookies only over HTTPS (the reverse proxy's TLS)
    assert "httponly" in cookie


def test_production_start_refuses_the_default_secret(tmp_path: Path) -> None:
    """The migrate service fails (so compose never starts the API and the workers, which wait for it), and
    the API process exits at start instead of answering /healthz and failing later. Run side by side."""
    cases: dict[str, tuple[list[str], dict[str, str]]] = {
        "migrate, the default secret": (["db", "upgrade"], {"PREFLOOP_SECRET_KEY": DEFAULT_SECRET}),
        "serve, secret unset": (["serve", "--host", "127.0.0.1", "--port", str(_free_port())], {}),
    }
    procs = {}
    for i, (name, (args, extra)) in enumerate(cases.items()):
        env = production_env(tmp_path / f"data{i}", f"sqlite:///{tmp_path / f'refused{i}.db'}", **extra)
        procs[name] = subprocess.Popen(
            [*PREFLOOP, *args], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
    for name, proc in procs.items():
        try:
            output, _ = proc.communicate(timeout=45)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate()
            pytest.fail(f"{name}: still running in production with the default secret:\n{output}")
        assert proc.returncode != 0, f"{name}:\n{output}"
        assert "PREFLOOP_SECRET_KEY must be set" in output, f"{name}:\n{output}"
    assert not list(tmp_path.glob("refused*.db")), "a database was touched"
