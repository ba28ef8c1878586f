"""The schema is made only by migrations: up, down and up again work, and they match the models."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect

from app.all_models import Base
from app.migrate import downgrade, upgrade
from tests.conftest import PG_URL, _create_pg_database, _drop_pg_database


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
        yield engine
        engine.dispose()
        return
    if not PG_URL:
        pytest.skip("PREFLOOP_TEST_DATABASE_URL not set")
    url = _create_pg_database(PG_URL)
    engine = create_engine(url)
    yield engine
    engine.dispose()
    _drop_pg_database(url)


def _diff(engine: Engine) -> list[object]:
    with engine.connect() as conn, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLite cannot reflect expression indexes; alembic warns and skips
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        return list(compare_metadata(ctx, Base.metadata))


def test_upgrade_downgrade_upgrade(fresh_engine: Engine) -> None:
    upgrade(fresh_engine)
    tables = set(inspect(fresh_engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    downgrade(fresh_engine, "base")
    assert set(inspect(fresh_engine).get_table_names()) <= {"alembic_version"}
    upgrade(fresh_engine)
    assert set(Base.metadata.tables) <= set(inspect(fresh_engine).get_table_names())


def test_models_and_migrations_agree(fresh_engine: Engine) -> None:
    upgrade(fresh_engine)
    assert _diff(fresh_engine) == []


def test_pick_uses_the_partial_index(fresh_engine: Engine) -> None:
    """The next-item pick must be index-driven so finished items cost nothing."""
    from sqlalchemy import text

    from app.annotation.repository import pick_statement

    upgrade(fresh_engine)
    stmt = pick_statement(1, 1, gold=False, lock=False)
    with fresh_engine.connect() as conn:
        compiled = stmt.compile(conn, compile_kwargs={"literal_binds": True})
        if fresh_engine.dialect.name == "sqlite":
            plan = " ".join(str(r[-1]) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
        else:
            conn.execute(text("SET enable_seqscan = off"))
            plan = " ".join(str(r[0]) for r in conn.execute(text(f"EXPLAIN {compiled}")))
    assert "ix_items_pick" in plan, plan
