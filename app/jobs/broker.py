"""Hand tasks to the broker, by name and with ids only, after the creating transaction commits.

Services call ``enqueue_after_commit(session, ...)``; the send happens in the session's ``after_commit``
hook, and a rollback drops it (Polar's enqueue buffer). The API never imports the workers package: it
sends by task name through a Celery client configured with the same broker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.config import get_settings

log = logging.getLogger(__name__)
_PENDING = "prefloop_pending_tasks"


@dataclass(frozen=True)
class TaskMessage:
    task_name: str
    queue: str
    job_id: int
    task_id: str


@lru_cache
def _client() -> Any:
    from celery import Celery  # imported on first send: the API starts without it

    settings = get_settings()
    if settings.resolved_broker_url.startswith("sqla+sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Celery("prefloop-api", broker=settings.resolved_broker_url)


def _send_with_celery(msg: TaskMessage) -> None:
    _client().send_task(msg.task_name, args=[msg.job_id], queue=msg.queue, routing_key=msg.queue, task_id=msg.task_id)


sender: Callable[[TaskMessage], None] = _send_with_celery
"""Replaceable in tests to record what would be sent."""


def revoke(task_id: str) -> None:
    """Best effort: the worker also checks the job's state before starting, so a missed revoke is harmless."""
    try:
        _client().control.revoke(task_id)
    except Exception:
        log.info("revoke of %s not delivered; the worker will skip the cancelled job", task_id)


def enqueue_after_commit(session: Session, msg: TaskMessage) -> None:
    call_after_commit(session, lambda: sender(msg))


def call_after_commit(session: Session, fn: Callable[[], None]) -> None:
    session.info.setdefault(_PENDING, []).append(fn)


def send_now(msg: TaskMessage) -> None:
    sender(msg)


@event.listens_for(Session, "after_commit")
def _flush_pending(session: Session) -> None:
    for fn in session.info.pop(_PENDING, []):
        try:
            fn()
        except Exception:
            # The job row is committed and stays queued; the reaper sends stale queued jobs again.
            log.exception("could not hand a task to the broker")


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)
