"""Request-scoped dependencies: the database session and the caller.

Access is checked in one place: every route takes ``CurrentPrincipal`` (or ``AdminPrincipal``), and
project-scoped routes resolve the project through ``app.projects.access``, which scopes every query to
what the caller may see.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.auth import repository as auth_repo
from app.auth import service as auth_service
from app.auth.models import GlobalRole
from app.auth.principal import AuthMethod, Principal
from app.auth.security import csrf_token_for, digest, tokens_equal
from app.config import get_settings
from app.db import get_engine, new_session, session_scope, utcnow
from app.errors import Forbidden, NotAuthenticated

SESSION_COOKIE = "prefloop_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TOKEN_TOUCH_INTERVAL = timedelta(minutes=5)
T = TypeVar("T")


async def _db_session(request: Request) -> AsyncIterator[Session]:
    """The request's unit of work: commit on success, roll back on error."""
    write = request.method not in SAFE_METHODS
    session = new_session(write=write)
    try:
        if write and session.get_bind().dialect.name == "sqlite":
            # SQLite has one writer at a time. Queue writers here, on the event loop, rather than on the
            # database lock inside pool threads: otherwise every pool thread can end up waiting for a lock
            # whose holder needs a free thread to finish (serialising the response) and commit.
            async with _sqlite_write_gate():
                yield session
                session.commit()
        else:
            yield session
            await run_in_threadpool(session.commit)
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


_gates: dict[int, asyncio.Lock] = {}


def _sqlite_write_gate() -> asyncio.Lock:
    loop_id = id(asyncio.get_running_loop())
    gate = _gates.get(loop_id)
    if gate is None:
        gate = _gates[loop_id] = asyncio.Lock()
    return gate


async def in_one_hop(request: Request, work: Callable[[Session, Principal], T]) -> T:
    """Authenticate, do the work and commit in ONE pool thread, for the hot annotation endpoints.

    Each sync dependency costs a hop to the thread pool and back; at hundreds of requests a second
    those hops (and a second connection for the caller's lookup) cost more than the work. Same rules
    as ``DbSession`` + ``CurrentPrincipal``: one transaction, committed before the response is sent.
    """
    write = request.method not in SAFE_METHODS

    def unit() -> T:
        with session_scope(write=write) as session:
            principal = _resolve_principal(request, session, touch_in=session if write else None)
            return work(session, principal)

    if write and get_engine().dialect.name == "sqlite":
        async with _sqlite_write_gate():
            return await run_in_threadpool(unit)
    return await run_in_threadpool(unit)


# scope="function": the commit happens before the response is sent, so a 2xx means "stored".
DbSession = Annotated[Session, Depends(_db_session, scope="function")]


def _principal(request: Request) -> Principal:
    # A short read of its own: the request's (possibly write-locking) transaction starts later, in the
    # endpoint's single thread hop.
    with new_session(write=False) as session:
        return _resolve_principal(request, session)


def _resolve_principal(request: Request, session: Session, *, touch_in: Session | None = None) -> Principal:
    """``touch_in``: a write session to record the token's use in (else a short transaction of its own)."""
    auth = request.headers.get("authorization", "")
    if auth:
        scheme, _, secret = auth.partition(" ")
        if scheme.lower() != "bearer" or not secret:
            raise NotAuthenticated("Authorization header must be 'Bearer <token>'.")
        row = auth_repo.principal_row_for_token(session, digest(secret.strip()))
        if row is None:
            raise NotAuthenticated("Invalid or revoked API token.")
        user_id, username, role, token_id, last_used = row
        now = utcnow()
        if last_used is None or now - last_used > TOKEN_TOUCH_INTERVAL:
            if touch_in is not None:
                auth_service.touch_token(touch_in, token_id)
            else:
                with session_scope(engine=get_engine()) as touch:
                    auth_service.touch_token(touch, token_id)
        return Principal(user_id, username, role == GlobalRole.admin, AuthMethod.token)

    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise NotAuthenticated("Log in or send an API token.")
    row2 = auth_repo.principal_row_for_session(session, digest(cookie), utcnow())
    if row2 is None:
        raise NotAuthenticated("Your session has expired; log in again.")
    user_id, username, role, session_id = row2
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not tokens_equal(sent, csrf_token_for(cookie, get_settings().secret_key)):
            raise Forbidden(f"Missing or wrong {CSRF_HEADER} header for a cookie-authenticated write.")
    return Principal(user_id, username, role == GlobalRole.admin, AuthMethod.cookie, session_id)


CurrentPrincipal = Annotated[Principal, Depends(_principal)]


def _admin(principal: CurrentPrincipal) -> Principal:
    if not principal.is_admin:
        raise Forbidden("Only an admin may do this.")
    return principal


AdminPrincipal = Annotated[Principal, Depends(_admin)]
