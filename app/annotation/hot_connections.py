"""Async psycopg connections for the annotation hot path: one pool per event loop and database.

The hot path runs on the event loop itself (``psycopg.AsyncConnection``), not in the thread pool the
rest of the API uses through SQLAlchemy: handing each request to a thread and back cost more CPU than
its two statements. Connections are in autocommit mode (each hot statement is a transaction of its own)
and come from ``psycopg_pool``; a connection that breaks is dropped by the pool, and the request is
delegated to the general code. The pools are closed by the app's lifespan (``close_pools``).
"""

from __future__ import annotations

import asyncio
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from sqlalchemy.engine import make_url

from app.config import get_settings

_pools: dict[tuple[int, str], AsyncConnectionPool] = {}


def _conninfo(database_url: str) -> str:
    """The libpq form of a SQLAlchemy ``postgresql+psycopg://`` URL."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _configure(conn: AsyncConnection[Any]) -> None:
    """Keep the hot statements on their indexes, whatever the statistics said when they were prepared.

    psycopg prepares a statement after a few runs and PostgreSQL then caches one generic plan per
    connection. Planned while a table was nearly empty (a new project, or autovacuum off so statistics
    never catch up), that plan can read the whole table on every run ever after - it did, the pick's
    probe of ``assignments``, at several times the cost of the whole request. Every hot statement is
    index-driven by design, so sequential scans are priced out on these connections only; JIT is off
    because those prices would otherwise make every plan look expensive enough to compile.
    """
    await conn.execute("SET enable_seqscan = off")
    await conn.execute("SET jit = off")


async def pool() -> AsyncConnectionPool:
    settings = get_settings()
    url = settings.resolved_database_url
    key = (id(asyncio.get_running_loop()), url)
    found = _pools.get(key)
    if found is None:
        found = _pools[key] = AsyncConnectionPool(
            _conninfo(url),
            kwargs={"autocommit": True},
            configure=_configure,
            min_size=0,
            max_size=settings.db_hot_pool_size,
            open=False,
            name="prefloop-hot-path",
        )
    await found.open()  # a no-op once open
    return found


async def close_pools() -> None:
    """Close this event loop's pools (at shutdown)."""
    loop_id = id(asyncio.get_running_loop())
    for key in [k for k in _pools if k[0] == loop_id]:
        await _pools.pop(key).close()
