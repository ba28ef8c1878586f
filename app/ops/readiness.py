"""Readiness: can this process serve requests and hand work to the workers right now?

Each check runs in a worker thread under ``CHECK_TIMEOUT_SECONDS`` (a hung connection attempt is
abandoned, not waited for) and answers ``"ok"`` or ``"error: <what>"``; details go to the log, not to the
(unauthenticated) response.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
from sqlalchemy import text

from app.config import get_settings
from app.db import get_engine

log = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 3.0
OK = "ok"


def check_database() -> None:
    with get_engine().connect() as conn:
        conn.execute(text("SELECT 1"))


def check_broker() -> None:
    url = get_settings().resolved_broker_url
    if url.startswith("sqla+sqlite"):
        _check_sqlite_broker(url)
    elif url.startswith(("redis://", "rediss://", "unix://")):
        _check_redis(url)
    else:
        _check_kombu(url)


def _check_sqlite_broker(url: str) -> None:
    """The embedded broker is a SQLite file; kombu creates it at first use, so a missing file whose folder
    can be written to is ready too."""
    path = Path(url.split(":///", 1)[1])
    if path.exists():
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=CHECK_TIMEOUT_SECONDS)
        try:
            conn.execute("PRAGMA schema_version").fetchone()  # fails unless it is a SQLite database
        finally:
            conn.close()
        return
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not os.access(folder, os.W_OK):
        raise PermissionError(f"cannot create the broker file under {folder}")


def _check_redis(url: str) -> None:
    import redis

    client: Any = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    finally:
        client.close()


def _check_kombu(url: str) -> None:
    from kombu.connection import Connection

    with Connection(url, connect_timeout=2) as conn:  # type: ignore[no-untyped-call]
        conn.ensure_connection(max_retries=1)


async def run_check(name: str, check: Callable[[], None]) -> str:
    try:
        with anyio.fail_after(CHECK_TIMEOUT_SECONDS):
            await anyio.to_thread.run_sync(check, abandon_on_cancel=True)
    except TimeoutError:
        log.warning("readiness: %s check timed out after %.0f s", name, CHECK_TIMEOUT_SECONDS)
        return "error: timed out"
    except Exception as exc:
        log.warning("readiness: %s check failed", name, exc_info=True)
        return f"error: {type(exc).__name__}"
    return OK
