"""Engine, sessions and the declarative base.

One transaction per request and per task: ``get_session`` (requests) and ``session_scope`` (CLI,
workers) commit on success and roll back on error; services only ``flush()``.

SQLite notes: WAL lets readers run beside the single writer; ``busy_timeout`` makes writers queue
instead of failing; write transactions start with ``BEGIN IMMEDIATE`` so a read-then-write transaction
(the annotation pick) takes the write lock up front and can never fail half-way on a stale snapshot.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, TypeDecorator, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session

from app.config import get_settings

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from the driver so BEGIN is ours (see module docstring).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str) -> Engine:
    settings = get_settings()
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            # Writers wait on SQLite's lock while holding a connection: allow one per server thread.
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow + 40,
            pool_timeout=60,
        )
        _configure_sqlite(engine)
        return engine
    engine = create_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_recycle=1800,
    )
    _ping_idle_connections(engine)
    return engine


PING_IF_IDLE_SECONDS = 1.0


def _ping_idle_connections(engine: Engine) -> None:
    """Pre-ping, but only connections that sat in the pool for a while.

    SQLAlchemy's ``pool_pre_ping`` costs a round trip on every checkout, i.e. on every request. A
    connection that was in use a moment ago is alive, and when the server does go away (a restart), the
    first statement that fails makes SQLAlchemy invalidate the whole pool, so every request made during
    the outage leaves no dead connection behind. What is left are connections that sat idle across the
    outage: those are pinged here, and replaced (the pool retries the checkout) when the ping fails.
    """

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_IF_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(f"connection lost while idle: {exc}") from exc


@lru_cache
def get_engine() -> Engine:
    return make_engine(get_settings().resolved_database_url)


def write_engine(engine: Engine) -> Engine:
    """The same engine, but its transactions take SQLite's write lock at BEGIN."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(sqlite_begin="IMMEDIATE")
    return engine


def new_session(*, write: bool = True, engine: Engine | None = None) -> Session:
    engine = engine or get_engine()
    return Session(write_engine(engine) if write else engine, expire_on_commit=False)


@contextmanager
def session_scope(*, write: bool = True, engine: Engine | None = None) -> Iterator[Session]:
    """A unit of work for the CLI and the workers: commit on success, roll back on error."""
    session = new_session(write=write, engine=engine)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
