"""Serve ``POST /api/projects/{id}/next`` and ``POST /api/assignments/{id}/label`` in front of FastAPI.

A pure ASGI layer, inside ``OpsMiddleware`` (request id, security headers, metrics and the access log
apply as to every request) and outside FastAPI's routing, dependency injection and exception layers,
which cost more per request than the two statements of ``hot_path``. It answers only what it can answer
completely: a request with an API token, on PostgreSQL, that ``hot_path`` handles without delegating.
Everything else - a cookie, a malformed id or body, an error, SQLite - is passed on unchanged (the body
replayed) to the FastAPI routes in ``app.annotation.router``, which stay the documented API and the one
place where every rule and error message lives.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import psycopg
from psycopg_pool import PoolTimeout
from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.annotation import hot_connections, hot_path
from app.annotation.schemas import LabelSubmit
from app.auth.security import digest
from app.db import get_engine, utcnow
from app.types import MAX_ID

_NEXT = re.compile(r"/api/projects/([1-9][0-9]{0,9})/next")
_LABEL = re.compile(r"/api/assignments/([1-9][0-9]{0,9})/label")
NEXT_ROUTE = "/api/projects/{project_id}/next"
LABEL_ROUTE = "/api/assignments/{assignment_id}/label"
MAX_BODY_BYTES = 256 * 1024
"""Larger bodies (long rewrites) go the general way; they are rare and not worth buffering here."""

_JSON = [(b"content-type", b"application/json")]
T = TypeVar("T")


class _Route:
    """What the router would put in ``scope["route"]``: the metrics and the access log read its template."""

    def __init__(self, path_format: str) -> None:
        self.path_format = path_format


_ROUTES = {NEXT_ROUTE: _Route(NEXT_ROUTE), LABEL_ROUTE: _Route(LABEL_ROUTE)}


class HotRoutes:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        match = _NEXT.fullmatch(path) or _LABEL.fullmatch(path)
        token = _bearer_token(scope) if match else None
        if match is None or token is None or int(match[1]) > MAX_ID or get_engine().dialect.name != "postgresql":
            await self.app(scope, receive, send)
            return
        body, complete = await _read_body(receive)
        answered = complete and await self._answer(scope, send, match, token, body)
        if not answered:
            await self.app(scope, _replay(body, complete, receive), send)

    async def _answer(self, scope: Scope, send: Send, match: re.Match[str], token: str, body: bytes) -> bool:
        row_id = int(match[1])
        token_hash = digest(token)
        now = utcnow()
        if match.re is _NEXT:
            scope["route"] = _ROUTES[NEXT_ROUTE]
            outcome: bytes | hot_path.Outcome | None = await _on_connection(
                lambda pg: hot_path.next_assignment(pg, token_hash, row_id, now)
            )
            status = 204 if outcome is None else 200
        else:
            if not _json_content(scope):
                return False  # FastAPI decides what a body of another type means (a 422)
            try:
                data = LabelSubmit.model_validate_json(body)
            except ValidationError:
                return False
            scope["route"] = _ROUTES[LABEL_ROUTE]
            outcome = await _on_connection(lambda pg: hot_path.submit_label(pg, token_hash, row_id, data, now))
            status = 201
        if outcome is hot_path.DELEGATE:
            scope.pop("route", None)
            return False
        headers = [] if outcome is None else _json_headers(outcome)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": outcome or b""})
        return True


def _bearer_token(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, secret = value.decode("latin-1").partition(" ")
            secret = secret.strip()
            return secret if scheme.lower() == "bearer" and secret else None
    return None


def _json_content(scope: Scope) -> bool:
    """As FastAPI reads a body as JSON: no content type, ``application/json`` or ``application/*+json``."""
    for name, value in scope["headers"]:
        if name == b"content-type":
            media: bytes = value.split(b";", 1)[0].strip().lower()
            return media == b"application/json" or (media.startswith(b"application/") and media.endswith(b"+json"))
    return True


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The request body, and whether it is all there (False: too large, or the client went away)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True
        if size > MAX_BODY_BYTES:
            return b"".join(chunks), False


def _replay(body: bytes, complete: bool, receive: Receive) -> Receive:
    """A ``receive`` that hands the app what was read already, then the rest of the stream."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": not complete}
        return await receive()

    return replay


def _json_headers(body: bytes) -> list[tuple[bytes, bytes]]:
    return [*_JSON, (b"content-length", str(len(body)).encode())]


async def _on_connection(work: Callable[[Any], Awaitable[T]]) -> T | hot_path.Outcome:
    """Run ``work`` on a pooled async connection; any database error delegates (the general code runs the
    request again and words the error, e.g. 503 while the database is down)."""
    try:
        pool = await hot_connections.pool()
        async with pool.connection() as pg:
            return await work(pg)
    except (psycopg.Error, PoolTimeout):
        return hot_path.DELEGATE
