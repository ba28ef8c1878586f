"""Operations: readiness, Prometheus metrics, request ids, JSON logs, security headers, CORS, shutdown."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, func, select

from app import main
from app.annotation.models import Item
from app.config import get_settings
from app.db import session_scope
from app.jobs.models import Job
from app.jobs.states import JobState
from app.main import create_app
from app.ops import metrics
from tests.app.ops.helpers import override_settings
from tests.factories import PASSWORD, add_member, add_prompts, auth, make_project, make_user

T = TypeVar("T")


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


# --- readiness --------------------------------------------------------------------------------------


def test_readyz_ok_and_healthz_unchanged(app_client: httpx.Client) -> None:
    r = app_client.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.json() == {"database": "ok", "broker": "ok"}
    assert app_client.get("/healthz").json() == {"status": "ok"}


def test_readyz_is_503_and_names_the_database_when_it_is_down(engine: Engine) -> None:
    broken = "postgresql+psycopg://nobody@127.0.0.1:1/nothing"
    with override_settings(PREFLOOP_DATABASE_URL=broken, new_engine=True), TestClient(create_app()) as client:
        r = client.get("/readyz")
        assert r.status_code == 503
        body = r.json()
        assert body["database"].startswith("error") and body["broker"] == "ok"
        assert "nobody" not in r.text  # no connection details in an unauthenticated answer
        assert client.get("/healthz").status_code == 200  # liveness touches no database


def test_readyz_is_503_and_names_the_broker_when_it_is_unreachable(engine: Engine) -> None:
    with override_settings(PREFLOOP_BROKER_URL="redis://127.0.0.1:1/0"), TestClient(create_app()) as client:
        r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["database"] == "ok" and r.json()["broker"].startswith("error")


# --- metrics ----------------------------------------------------------------------------------------


def test_metrics_histogram_uses_the_route_template(app_client: httpx.Client) -> None:
    _, token = make_user()
    assert app_client.get("/api/projects/987654", headers=auth(token)).status_code == 404
    assert app_client.get("/api/projects/987654").status_code == 401
    app_client.request("BREW", "/api/projects/987654")
    r = app_client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    samples = _samples(r.text)
    key = (
        "prefloop_http_request_duration_seconds_count",
        (("method", "GET"), ("route", "/api/projects/{project_id}"), ("status", "4xx")),
    )
    assert samples[key] >= 2
    assert "987654" not in r.text  # raw paths never become label values
    assert "BREW" not in r.text  # nor made-up methods


def test_metrics_jobs_and_queue_gauges(app_client: httpx.Client) -> None:
    project_id = make_project(task_kind="pairwise")
    add_prompts(project_id, n_prompts=3, candidates_per_prompt=2)
    with session_scope() as s:
        s.add_all([Job(kind="smoke", state=JobState.queued) for _ in range(2)])
        s.add(Job(kind="smoke", state=JobState.running))
        open_items, open_slots = s.execute(
            select(func.count(), func.sum(Item.open_slots)).where(Item.open_slots > 0, ~Item.is_gold)
        ).one()
    assert open_items > 0
    metrics.clear_cache()
    samples = _samples(app_client.get("/metrics").text)
    assert samples[("prefloop_jobs", (("state", "queued"),))] == 2
    assert samples[("prefloop_jobs", (("state", "running"),))] == 1
    assert samples[("prefloop_jobs", (("state", "succeeded"),))] == 0
    assert samples[("prefloop_queue_items_needing_labels", ())] == open_items
    assert samples[("prefloop_queue_open_slots", ())] == open_slots
    # Cached for a while: a new job does not cost a query per scrape.
    with session_scope() as s:
        s.add(Job(kind="smoke", state=JobState.queued))
    assert _samples(app_client.get("/metrics").text)[("prefloop_jobs", (("state", "queued"),))] == 2
    metrics.clear_cache()
    assert _samples(app_client.get("/metrics").text)[("prefloop_jobs", (("state", "queued"),))] == 3


def test_labels_submitted_counts_created_labels_only(app_client: httpx.Client) -> None:
    project_id = make_project(task_kind="pairwise")
    add_prompts(project_id, n_prompts=2, candidates_per_prompt=2)
    uid, token = make_user()
    add_member(project_id, uid)

    def submitted() -> float:
        return _samples(app_client.get("/metrics").text)[("prefloop_labels_submitted_total", ())]

    before = submitted()
    a = app_client.post(f"/api/projects/{project_id}/next", headers=auth(token)).json()
    body = {"answer": {"choice": "a"}}
    assert app_client.post(f"/api/assignments/{a['id']}/label", json=body, headers=auth(token)).status_code == 201
    assert submitted() == before + 1
    # A retry returns the stored label (200): not a new label.
    assert app_client.post(f"/api/assignments/{a['id']}/label", json=body, headers=auth(token)).status_code == 200
    assert submitted() == before + 1


def test_metrics_token_when_configured(engine: Engine) -> None:
    with override_settings(PREFLOOP_METRICS_TOKEN="scrape-secret"), TestClient(create_app()) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers=auth("wrong")).status_code == 401
        assert client.get("/metrics", headers=auth("scrape-secret")).status_code == 200


# --- request ids and logs ---------------------------------------------------------------------------


def test_request_id_is_echoed_generated_or_replaced(app_client: httpx.Client) -> None:
    r = app_client.get("/healthz", headers={"X-Request-ID": "lb-1234.abc_DEF"})
    assert r.headers["x-request-id"] == "lb-1234.abc_DEF"
    generated = app_client.get("/healthz").headers["x-request-id"]
    assert len(generated) == 32 and int(generated, 16) >= 0
    for bad in ("has space", "x" * 65, "semi;colon", "<script>"):
        replaced = app_client.get("/healthz", headers={"X-Request-ID": bad}).headers["x-request-id"]
        assert replaced != bad and len(replaced) == 32
    assert app_client.get("/api/auth/me").headers["x-request-id"]  # errors carry it too


def test_json_logs_carry_the_request_id_and_never_secrets(engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    make_user(username="ann")
    _, token = make_user()
    with override_settings(PREFLOOP_LOG_FORMAT="json", PREFLOOP_LOG_LEVEL="INFO"):
        app = create_app()

        @app.post("/_test/log")
        def log_something() -> dict[str, str]:
            logging.getLogger("app.test").info("inside the endpoint", extra={"answer": 42})
            return {}

        capsys.readouterr()
        with TestClient(app) as client:
            r = client.get("/api/auth/me", headers={**auth(token), "X-Request-ID": "req-1"})
            assert r.status_code == 200
            login = client.post("/api/auth/login", json={"username": "ann", "password": PASSWORD})
            assert login.status_code == 200
            session_cookie = client.cookies.get("prefloop_session")
            assert client.get("/api/auth/me", headers={"X-Request-ID": "req-2"}).status_code == 200
            guess = {"username": "ann", "password": "s3cret-guess"}
            assert client.post("/api/auth/login", json=guess).status_code == 401
            client.post("/_test/log", headers={**auth(token), "X-Request-ID": "req-3"})
        err = capsys.readouterr().err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "prefloop.access"]
    me = next(line for line in access if line["request_id"] == "req-1")
    assert {"time", "level", "logger", "message", "request_id"} <= set(me)
    assert me["method"] == "GET" and me["route"] == "/api/auth/me" and me["status"] == 200
    assert me["path"] == "/api/auth/me" and isinstance(me["duration_ms"], float) and me["level"] == "INFO"
    inside = next(line for line in lines if line["message"] == "inside the endpoint")
    assert inside["request_id"] == "req-3" and inside["answer"] == 42  # thread-pool endpoints inherit the id
    assert any(line["route"] == "/api/auth/login" and line["status"] == 401 for line in access)
    for secret in (token, PASSWORD, "s3cret-guess", session_cookie):
        assert secret and secret not in err


def test_text_logs_by_default_outside_production(engine: Engine) -> None:
    assert get_settings().resolved_log_format == "text"
    with override_settings(PREFLOOP_ENVIRONMENT="production", PREFLOOP_SECRET_KEY="a-real-secret"):
        assert get_settings().resolved_log_format == "json"


# --- security headers and CORS ----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/healthz", "/api/auth/me", "/api/nothing-here", "/", "/readyz", "/metrics"])
def test_security_headers_on_every_response(app_client: httpx.Client, path: str) -> None:
    r = app_client.get(path)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "same-origin"
    csp = r.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp and "connect-src 'self'" in csp
    assert "strict-transport-security" not in r.headers  # not without Secure cookies (HTTPS)


def test_an_unhandled_error_is_a_500_with_the_request_id_and_headers(engine: Engine) -> None:
    app = create_app()

    @app.post("/_test/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.post("/_test/boom", headers={"X-Request-ID": "req-500"})
        assert r.status_code == 500 and r.json()["code"] == "internal"
        assert r.headers["x-request-id"] == "req-500" and r.headers["x-frame-options"] == "DENY"
        samples = _samples(client.get("/metrics").text)
    key = (("method", "POST"), ("route", "/_test/boom"), ("status", "5xx"))
    assert samples[("prefloop_http_request_duration_seconds_count", key)] >= 1


def test_docs_pages_get_a_csp_that_lets_them_load(app_client: httpx.Client) -> None:
    csp = app_client.get("/docs").headers["content-security-policy"]
    assert "https://cdn.jsdelivr.net" in csp and "frame-ancestors 'none'" in csp
    assert "cdn.jsdelivr.net" not in app_client.get("/").headers["content-security-policy"]


def _preflight(client: httpx.Client, origin: str) -> httpx.Response:
    return client.options(
        "/api/auth/me",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "X-CSRF-Token",
        },
    )


def test_cors_is_closed_by_default(app_client: httpx.Client) -> None:
    r = app_client.get("/healthz", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers
    assert "access-control-allow-origin" not in _preflight(app_client, "https://evil.example").headers


def test_cors_allows_only_the_configured_origins_with_credentials(engine: Engine) -> None:
    origins = "https://ui.example.org, https://other.example.org/"
    with override_settings(PREFLOOP_CORS_ORIGINS=origins), TestClient(create_app()) as client:
        r = _preflight(client, "https://ui.example.org")
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == "https://ui.example.org"
        assert r.headers["access-control-allow-credentials"] == "true"
        assert r.headers["x-request-id"] and r.headers["x-frame-options"] == "DENY"
        simple = client.get("/healthz", headers={"Origin": "https://other.example.org"})
        assert simple.headers["access-control-allow-origin"] == "https://other.example.org"
        assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()
        assert "access-control-allow-origin" not in _preflight(client, "https://evil.example").headers
        assert (
            "access-control-allow-origin"
            not in client.get("/healthz", headers={"Origin": "https://evil.example"}).headers
        )


def test_cors_wildcard_is_refused() -> None:
    from pydantic import ValidationError

    from app.config import Settings

    with pytest.raises(ValidationError, match="origins"):
        Settings(cors_origins=["*"])
    assert Settings(cors_origins='["https://a.example"]').cors_origins == ["https://a.example"]  # type: ignore[arg-type]


# --- shutdown ---------------------------------------------------------------------------------------


def _run_in_new_loop(coro: Coroutine[Any, Any, T]) -> T:
    # Its own thread: browser tests earlier in the session may leave an event loop set on this one.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def test_lifespan_stops_the_reaper_promptly_and_cleanly() -> None:
    async def run() -> float:
        app = main.create_app()
        async with main._lifespan(app):
            await asyncio.sleep(0.05)
            started = time.monotonic()
        return time.monotonic() - started

    assert _run_in_new_loop(run()) < 2  # not REAP_EVERY_SECONDS: the loop waits on a stop event


def test_reaper_loop_runs_a_pass_then_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    passes: list[int] = []
    monkeypatch.setattr(main, "REAP_EVERY_SECONDS", 0.01)
    monkeypatch.setattr(main, "_reap_once", lambda: passes.append(1))

    async def run() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(main._reaper_loop(stop))
        await asyncio.sleep(0.2)
        assert passes
        stop.set()
        await asyncio.wait_for(task, 2)
        assert task.done() and not task.cancelled()

    _run_in_new_loop(run())
