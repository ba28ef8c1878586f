"""Login lockout per username and rate limit per client address (stored in the database)."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, update

from app.auth.models import LoginFailure
from app.config import get_settings
from app.db import session_scope, utcnow
from app.main import create_app
from tests.app.ops.helpers import override_settings
from tests.factories import PASSWORD, make_user


def _login(client: httpx.Client, username: str, password: str = PASSWORD) -> httpx.Response:
    return client.post("/api/auth/login", json={"username": username, "password": password})


def _failures(username: str | None = None) -> int:
    with session_scope(write=False) as s:
        stmt = select(func.count()).select_from(LoginFailure)
        if username is not None:
            stmt = stmt.where(LoginFailure.username == username)
        return s.scalar(stmt) or 0


def _age_failures(by: timedelta) -> None:
    """Move every stored failure back in time (instead of sleeping through windows and lock periods)."""
    with session_scope() as s:
        for failure in s.scalars(select(LoginFailure)):
            failure.failed_at -= by


def test_defaults() -> None:
    settings = get_settings()
    assert settings.login_max_failures == 5
    assert settings.login_failure_window_seconds == settings.login_lockout_seconds == 15 * 60
    assert settings.login_ip_max_failures == 20 and settings.login_ip_window_seconds == 5 * 60


def test_lockout_after_n_failures_then_open_again_after_the_lock_period(app_client: httpx.Client) -> None:
    make_user(username="ann")
    for _ in range(5):
        r = _login(app_client, "ann", "wrong-password")
        assert r.status_code == 401 and "Retry-After" not in r.headers
    assert _failures("ann") == 5  # stored although each of those requests failed
    locked = _login(app_client, "ann", "wrong-password")
    assert locked.status_code == 429 and locked.json()["code"] == "too_many_attempts"
    assert 14 * 60 < int(locked.headers["Retry-After"]) <= 15 * 60
    assert "locked" in locked.json()["detail"] and "15 minutes" in locked.json()["detail"]
    # The right password does not get through while locked, and refused attempts are not counted.
    right = _login(app_client, "ann")
    assert right.status_code == 429 and "Retry-After" in right.headers
    assert "set-cookie" not in right.headers
    assert _failures("ann") == 5

    _age_failures(timedelta(minutes=15, seconds=1))  # the lock period has passed
    r = _login(app_client, "ann")
    assert r.status_code == 200, r.text
    assert _failures("ann") == 0  # a successful login clears the username's failures


def test_an_unknown_username_locks_the_same_way(app_client: httpx.Client) -> None:
    make_user(username="ann")
    for name in ("ann", "nobody"):
        for _ in range(5):
            assert _login(app_client, name, "wrong-password").status_code == 401
    known, unknown = _login(app_client, "ann", "x"), _login(app_client, "nobody", "x")
    assert known.status_code == unknown.status_code == 429
    assert known.json() == unknown.json()  # a lockout does not tell whether the account exists


def test_success_clears_failures_and_old_failures_do_not_count(app_client: httpx.Client) -> None:
    make_user(username="ann")
    for _ in range(4):
        assert _login(app_client, "ann", "wrong-password").status_code == 401
    assert _login(app_client, "ann").status_code == 200
    for _ in range(4):
        assert _login(app_client, "ann", "wrong-password").status_code == 401
    _age_failures(timedelta(minutes=16))  # out of the window: 4 old + 1 new are not 5 within 15 minutes
    assert _login(app_client, "ann", "wrong-password").status_code == 401
    assert _login(app_client, "ann").status_code == 200


def test_failures_too_old_to_matter_are_pruned(app_client: httpx.Client) -> None:
    make_user(username="ann")
    assert _login(app_client, "ann", "wrong-password").status_code == 401
    _age_failures(timedelta(hours=1))
    assert _login(app_client, "bob", "wrong-password").status_code == 401
    assert _failures("ann") == 0 and _failures("bob") == 1


def test_per_address_limit(engine: Engine) -> None:
    make_user(username="ann")
    app = create_app()
    sprayer, other = TestClient(app, client=("203.0.113.7", 5000)), TestClient(app, client=("198.51.100.1", 5000))
    with sprayer, other:
        # Password spraying: one guess for each of many usernames, so no username lockout kicks in.
        for i in range(20):
            assert _login(sprayer, f"user{i}", "Summer2026!").status_code == 401
        limited = _login(sprayer, "ann")
        assert limited.status_code == 429 and "address" in limited.json()["detail"]
        assert 4 * 60 < int(limited.headers["Retry-After"]) <= 5 * 60
        assert _login(other, "ann").status_code == 200  # other clients are not affected
        with session_scope() as s:
            s.execute(update(LoginFailure).values(failed_at=utcnow() - timedelta(minutes=5, seconds=1)))
        assert _login(sprayer, "ann").status_code == 200


def test_per_address_limit_can_be_switched_off(engine: Engine) -> None:
    make_user(username="ann")
    env = {"PREFLOOP_LOGIN_IP_MAX_FAILURES": "0", "PREFLOOP_LOGIN_MAX_FAILURES": "2"}
    with override_settings(**env), TestClient(create_app()) as client:
        for i in range(25):
            assert _login(client, f"user{i}", "wrong-password").status_code == 401
        assert _login(client, "ann").status_code == 200
        # ... and the username lockout follows its (here lowered) setting.
        for _ in range(2):
            assert _login(client, "ann", "wrong-password").status_code == 401
        assert _login(client, "ann").status_code == 429
