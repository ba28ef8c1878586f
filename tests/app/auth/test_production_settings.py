"""Production: refuses the default secret, Secure + HttpOnly + SameSite cookies, HSTS."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import Engine

from app.config import DEFAULT_SECRET, Settings
from app.main import create_app
from tests.app.ops.helpers import override_settings
from tests.factories import PASSWORD, make_user


def test_production_refuses_the_default_secret() -> None:
    with pytest.raises(ValidationError, match="PREFLOOP_SECRET_KEY"):
        Settings(environment="production", secret_key=DEFAULT_SECRET)  # type: ignore[arg-type]
    assert Settings(environment="production", secret_key="a-long-random-value").secure_cookies  # type: ignore[arg-type]
    assert Settings(environment="development", secret_key=DEFAULT_SECRET).secret_key == DEFAULT_SECRET  # type: ignore[arg-type]


def test_production_cookie_is_secure_httponly_samesite_and_hsts_is_sent(engine: Engine) -> None:
    make_user(username="ann")
    env = {"PREFLOOP_ENVIRONMENT": "production", "PREFLOOP_SECRET_KEY": "a-long-random-value"}
    with override_settings(**env), TestClient(create_app(), base_url="https://testserver") as client:
        r = client.post("/api/auth/login", json={"username": "ann", "password": PASSWORD})
        assert r.status_code == 200, r.text
        cookie = [part.strip().lower() for part in r.headers["set-cookie"].split(";")]
        assert cookie[0].startswith("prefloop_session=")
        assert "secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie
        assert r.headers["strict-transport-security"].startswith("max-age=")
        assert client.get("/healthz").headers["strict-transport-security"]
