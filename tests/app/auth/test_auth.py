"""Login, cookies, CSRF, API tokens and admin-only endpoints."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from typer.testing import CliRunner

from app.auth.models import ApiToken, GlobalRole, User
from app.cli import cli
from app.db import session_scope
from tests.factories import PASSWORD, auth, make_user


def _login(client: httpx.Client, username: str, password: str = PASSWORD) -> httpx.Response:
    return client.post("/api/auth/login", json={"username": username, "password": password})


def test_login_sets_httponly_samesite_cookie_and_returns_csrf(app_client: httpx.Client) -> None:
    make_user(username="ann")
    r = _login(app_client, "ann")
    assert r.status_code == 200, r.text
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert r.json()["csrf_token"]
    me = app_client.get("/api/auth/me")
    assert me.status_code == 200 and me.json()["username"] == "ann"


def test_wrong_password_and_unknown_user_are_the_same_401(app_client: httpx.Client) -> None:
    make_user(username="ann")
    a = _login(app_client, "ann", "wrong-password")
    b = _login(app_client, "nobody", "wrong-password")
    assert a.status_code == b.status_code == 401
    assert a.json()["detail"] == b.json()["detail"]


def test_cookie_writes_need_the_csrf_header(app_client: httpx.Client) -> None:
    make_user(username="ann")
    csrf = _login(app_client, "ann").json()["csrf_token"]
    r = app_client.post("/api/auth/tokens", json={"name": "script"})
    assert r.status_code == 403 and "X-CSRF-Token" in r.json()["detail"]
    r = app_client.post("/api/auth/tokens", json={"name": "script"}, headers={"X-CSRF-Token": "forged"})
    assert r.status_code == 403
    r = app_client.post("/api/auth/tokens", json={"name": "script"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201


def test_logout_ends_the_session(app_client: httpx.Client) -> None:
    make_user(username="ann")
    csrf = _login(app_client, "ann").json()["csrf_token"]
    cookie = app_client.cookies.get("prefloop_session")
    assert app_client.post("/api/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    app_client.cookies.set("prefloop_session", cookie)  # replaying the old cookie does not work
    assert app_client.get("/api/auth/me").status_code == 401


def test_api_token_is_shown_once_stored_hashed_and_revocable(app_client: httpx.Client) -> None:
    _, token = make_user(username="ann")
    r = app_client.post("/api/auth/tokens", json={"name": "ci"}, headers=auth(token))
    assert r.status_code == 201
    created = r.json()
    secret = created["token"]
    listed = app_client.get("/api/auth/tokens", headers=auth(secret)).json()
    assert all("token" not in t for t in listed)
    with session_scope(write=False) as s:
        hashes = s.scalars(select(ApiToken.token_hash)).all()
    assert secret not in hashes and all(len(h) == 64 for h in hashes)
    assert app_client.delete(f"/api/auth/tokens/{created['id']}", headers=auth(token)).status_code == 200
    assert app_client.get("/api/auth/me", headers=auth(secret)).status_code == 401


def test_malformed_authorization_header_is_401(app_client: httpx.Client) -> None:
    assert app_client.get("/api/auth/me", headers={"Authorization": "Basic abc"}).status_code == 401
    assert app_client.get("/api/auth/me").status_code == 401


def test_user_management_is_admin_only(app_client: httpx.Client) -> None:
    _, user_token = make_user()
    _, admin_token = make_user(GlobalRole.admin)
    body = {"username": "newbie", "password": "long-enough-pw"}
    assert app_client.get("/api/users", headers=auth(user_token)).status_code == 403
    assert app_client.post("/api/users", json=body, headers=auth(user_token)).status_code == 403
    r = app_client.post("/api/users", json=body, headers=auth(admin_token))
    assert r.status_code == 201 and "password" not in r.text
    assert app_client.post("/api/users", json=body, headers=auth(admin_token)).status_code == 409
    uid = r.json()["id"]
    r = app_client.patch(f"/api/users/{uid}", json={"is_active": False}, headers=auth(admin_token))
    assert r.status_code == 200
    assert _login(app_client, "newbie", "long-enough-pw").status_code == 401


def test_passwords_are_hashed_with_argon2(app_client: httpx.Client) -> None:
    make_user(username="ann")
    with session_scope(write=False) as s:
        stored = s.scalar(select(User.password_hash).where(User.username == "ann"))
    assert stored is not None and stored.startswith("$argon2") and PASSWORD not in stored


def test_cli_admin_create_makes_an_admin(engine: object) -> None:
    result = CliRunner().invoke(cli, ["admin", "create", "--username", "root", "--password", "s3cret-pass"])
    assert result.exit_code == 0, result.output
    with session_scope(write=False) as s:
        user = s.scalar(select(User).where(User.username == "root"))
    assert user is not None and user.role == GlobalRole.admin
    again = CliRunner().invoke(cli, ["admin", "create", "--username", "root", "--password", "s3cret-pass"])
    assert again.exit_code != 0 and "already exists" in again.output
