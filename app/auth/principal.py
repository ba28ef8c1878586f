"""Who is calling: resolved once per request from a bearer token or the session cookie."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class AuthMethod(StrEnum):
    cookie = "cookie"
    token = "token"  # noqa: S105 - a name, not a secret


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: int
    username: str
    is_admin: bool
    method: AuthMethod
    session_id: int | None = None
