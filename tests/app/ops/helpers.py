"""Run part of a test under other settings (env vars), with the cached settings and engine rebuilt
and the logging set back afterwards."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from app import config, db
from app.ops.logs import configure_logging


@contextmanager
def override_settings(*, new_engine: bool = False, **env: str) -> Iterator[None]:
    """``override_settings(PREFLOOP_LOG_FORMAT="json")``; ``new_engine`` when the database URL changes."""
    old = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    config.get_settings.cache_clear()
    if new_engine:
        db.get_engine.cache_clear()
    try:
        yield
    finally:
        if new_engine and db.get_engine.cache_info().currsize:
            db.get_engine().dispose()
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        config.get_settings.cache_clear()
        if new_engine:
            db.get_engine.cache_clear()
        configure_logging(config.get_settings())  # an app made inside may have switched the log format
