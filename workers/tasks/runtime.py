"""Running a job inside a Celery task: claim it, heartbeat, report progress/metrics/logs, finish it.

Tasks stay thin: ``run_job(job_id, kind, body)`` then load rows, call workers.ml, store results.
Every write here is its own short transaction, so the API sees progress while the job runs.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, select, update

from app.config import get_settings
from app.db import session_scope, utcnow
from app.jobs.models import Job, JobLog, JobMetric
from app.jobs.states import JobState

log = logging.getLogger(__name__)


class JobCancelled(Exception):
    """Raised by ``ctx.check_cancel()`` when a user asked the job to stop."""


class JobSkipped(Exception):
    """The job was not in a state to run (cancelled before it started, already running or done)."""


@dataclass
class JobContext:
    job_id: int
    params: dict[str, Any]
    project_id: int | None
    attempt: int
    _cancel: threading.Event = field(default_factory=threading.Event)
    _curves_written: set[str] = field(default_factory=set)
    result: dict[str, Any] = field(default_factory=dict)

    def progress(self, done: int, total: int | None = None, note: str | None = None) -> None:
        values: dict[str, Any] = {"progress_done": done, "heartbeat_at": utcnow()}
        if total is not None:
            values["progress_total"] = total
        if note is not None:
            values["progress_note"] = note[:256]
        with session_scope() as s:
            s.execute(update(Job).where(Job.id == self.job_id).values(**values))

    def metrics(self, step: int, values: dict[str, float]) -> None:
        rows = [
            {"job_id": self.job_id, "name": k, "step": step, "value": float(v), "created_at": utcnow()}
            for k, v in values.items()
        ]
        if not rows:
            return
        # A retried job goes on from its last checkpoint (or from the start): the points the dead attempt
        # recorded from there on are redone now, so a curve's first point in this attempt replaces them
        # instead of leaving two values per step and a stale tail.
        redone = [name for name in values if name not in self._curves_written] if self.attempt > 1 else []
        with session_scope() as s:
            if redone:
                s.execute(
                    delete(JobMetric).where(
                        JobMetric.job_id == self.job_id, JobMetric.name.in_(redone), JobMetric.step >= step
                    )
                )
            s.execute(insert(JobMetric), rows)
        self._curves_written.update(values)

    def log(self, message: str, level: str = "info") -> None:
        log.log(logging.getLevelName(level.upper()), "job %s: %s", self.job_id, message)
        with session_scope() as s:
            s.add(JobLog(job_id=self.job_id, level=level, message=message[:10_000]))

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check_cancel(self) -> None:
        """Call between batches or steps: stops the job promptly when a user cancelled it."""
        if self._cancel.is_set() or _cancel_requested(self.job_id):
            self._cancel.set()
            raise JobCancelled()


def _cancel_requested(job_id: int) -> bool:
    with session_scope(write=False) as s:
        return bool(s.scalar(select(Job.cancel_requested).where(Job.id == job_id)))


def _claim(job_id: int, kind: str) -> JobContext:
    """queued → running, atomically: a duplicate message, a cancelled job, or a message meant for
    another kind of job (a stale message naming an id the database has since reused) does not run."""
    worker = f"{socket.gethostname()}:{threading.get_native_id()}"
    now = utcnow()
    with session_scope() as s:
        claimed = s.execute(
            update(Job)
            .where(Job.id == job_id, Job.kind == kind, Job.state == JobState.queued, Job.cancel_requested.is_(False))
            .values(state=JobState.running, started_at=now, heartbeat_at=now, worker=worker, attempts=Job.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount == 0:  # type: ignore[attr-defined]
            row = s.execute(select(Job.kind, Job.state).where(Job.id == job_id)).first()
            what = "gone" if row is None else row.state if row.kind == kind else f"a {row.kind} job, not {kind}"
            raise JobSkipped(f"job {job_id} is {what}; not running it")
        job = s.get(Job, job_id)
        assert job is not None
        s.add(JobLog(job_id=job_id, level="info", message=f"started on {worker} (attempt {job.attempts})"))
        return JobContext(job_id, dict(job.params), job.project_id, job.attempts)


def _finish(job_id: int, state: JobState, *, error: str | None = None, result: dict[str, Any] | None = None) -> None:
    with session_scope() as s:
        values: dict[str, Any] = {"state": state, "finished_at": utcnow(), "error": error}
        if result is not None:
            values["result"] = result
        # Only a job still running is finished here: the reaper may have given it up meanwhile.
        s.execute(update(Job).where(Job.id == job_id, Job.state == JobState.running).values(**values))
        s.add(JobLog(job_id=job_id, level="error" if error else "info", message=error or f"{state}"))


def _heartbeat(ctx: JobContext, stop: threading.Event) -> None:
    while not stop.wait(get_settings().job_heartbeat_seconds):
        try:
            with session_scope() as s:
                s.execute(
                    update(Job).where(Job.id == ctx.job_id, Job.state == JobState.running).values(heartbeat_at=utcnow())
                )
                if s.scalar(select(Job.cancel_requested).where(Job.id == ctx.job_id)):
                    ctx._cancel.set()
        except Exception:
            log.warning("heartbeat for job %s failed", ctx.job_id, exc_info=True)


@contextmanager
def job_run(job_id: int, kind: str) -> Iterator[JobContext]:
    """Run the body as this job of this kind; records success, cancellation or failure (and re-raises failures)."""
    ctx = _claim(job_id, kind)
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(ctx, stop), daemon=True, name=f"heartbeat-{job_id}")
    beat.start()
    started = time.monotonic()
    try:
        yield ctx
    except JobCancelled:
        _finish(job_id, JobState.cancelled, result=ctx.result)
        return
    except BaseException as exc:
        tail = "".join(traceback.format_exception(exc)[-3:])
        _finish(job_id, JobState.failed, error=f"{type(exc).__name__}: {exc}"[:2000], result=ctx.result)
        ctx.log(tail, level="error")
        raise
    finally:
        stop.set()
    ctx.result.setdefault("seconds", round(time.monotonic() - started, 3))
    _finish(job_id, JobState.succeeded, result=ctx.result)


def run_job(job_id: int, kind: str, body: Callable[[JobContext], None]) -> None:
    """A task's whole body: run ``body`` as the job; a job not in a state to run is skipped quietly."""
    try:
        with job_run(job_id, kind) as ctx:
            body(ctx)
    except JobSkipped:
        return
