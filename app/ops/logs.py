"""Logs: the request id in a contextvar, one JSON object per line (production) or readable text.

``configure_logging`` installs one handler on the root logger (replacing the one it installed before, so
calling it again is harmless), writing to whatever ``sys.stderr`` is at the time. In json mode uvicorn's
own loggers are routed through it too. uvicorn's access log is switched off: ``app.ops.middleware``
writes a richer one (route template, duration, request id) on the ``prefloop.access`` logger.

Nothing from the request's headers, cookies or body is ever put in a record by this package; only the
method, path, route template, status, duration, client address and request id.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from app.config import LogFormat, Settings

REQUEST_ID: ContextVar[str | None] = ContextVar("prefloop_request_id", default=None)
ACCESS_LOGGER = "prefloop.access"

# Attributes every LogRecord has; anything else on a record came from ``extra=`` and is written out too.
_STANDARD_ATTRS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "request_id", "taskName"}
_SKIPPED_EXTRAS = frozenset({"color_message"})  # uvicorn's ANSI-coloured copy of the message


class RequestIdFilter(logging.Filter):
    """Puts the current request's id (or None outside a request) on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, then any ``extra=`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or REQUEST_ID.get(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and key not in _SKIPPED_EXTRAS and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(out, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get() or "-"
        return super().format(record)


class _StderrHandler(logging.Handler):
    """Writes to the current ``sys.stderr`` (test runners and servers swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            stream = sys.stderr
            stream.write(line + "\n")
            stream.flush()
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)


def make_formatter(fmt: LogFormat) -> logging.Formatter:
    return JsonFormatter() if fmt == LogFormat.json else TextFormatter()


def configure_logging(settings: Settings) -> None:
    fmt = settings.resolved_log_format
    handler = _StderrHandler()
    handler.set_name("prefloop")
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(make_formatter(fmt))
    root = logging.getLogger()
    for old in list(root.handlers):
        if old.get_name() == "prefloop":
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(_level(settings))
    logging.getLogger(ACCESS_LOGGER).setLevel(logging.NOTSET)
    # Our access log replaces uvicorn's (which knows neither the route template nor the request id).
    uvicorn_access = logging.getLogger("uvicorn.access")
    uvicorn_access.handlers.clear()
    uvicorn_access.propagate = False
    uvicorn_access.disabled = True
    if fmt == LogFormat.json:
        for name in ("uvicorn", "uvicorn.error"):
            logger = logging.getLogger(name)
            logger.handlers.clear()
            logger.propagate = True


def _level(settings: Settings) -> int | str:
    if settings.log_level:
        return settings.log_level.upper()
    # uvicorn sets its loggers' level from --log-level before it imports the app: follow it, so
    # `prefloop up` (--log-level warning) stays quiet and `prefloop serve` (info) shows the access log.
    server_level = logging.getLogger("uvicorn.error").level
    return server_level if server_level != logging.NOTSET else logging.INFO
