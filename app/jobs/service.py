"""Create, cancel, watch and reap jobs. The only code that moves a job between states."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.db import utcnow
from app.errors import Conflict, InvalidInput, NotFound
from app.jobs import broker
from app.jobs.kinds import SPECS, JobKind
from app.jobs.models import Job, JobLog, JobMetric
from app.jobs.schemas import JobRead, MetricSeries
from app.jobs.states import TERMINAL, JobState, check_transition


def validate_params(kind: JobKind, params: dict[str, Any]) -> dict[str, Any]:
    try:
        return SPECS[kind].params.model_validate(params).model_dump(mode="json")
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise InvalidInput(f"params.{loc}: {err['msg']}", field=f"params.{loc}") from None


def create_job(
    session: Session, kind: JobKind, params: dict[str, Any], *, project_id: int | None, created_by: int | None
) -> Job:
    """Store a queued job and send it to its queue once the transaction commits."""
    spec = SPECS[kind]
    if spec.needs_project and project_id is None:
        raise InvalidInput(f"A {kind} job needs a project_id.", field="project_id")
    job = Job(
        kind=kind,
        state=JobState.queued,
        project_id=project_id,
        params=validate_params(kind, params),
        result={},
        created_by=created_by,
        task_id=uuid.uuid4().hex,
        attempts=0,
        progress_done=0,
        cancel_requested=False,
    )
    session.add(job)
    session.flush()
    _enqueue(session, job)
    return job


def _enqueue(session: Session, job: Job) -> None:
    spec = SPECS[JobKind(job.kind)]
    job.heartbeat_at = utcnow()  # for a queued job: when it was last handed to the broker
    assert job.task_id is not None
    # A kind whose params name a queue (the smoke job) goes there; the others' params forbid the key.
    queue = str(job.params.get("queue", spec.queue))
    broker.enqueue_after_commit(session, broker.TaskMessage(spec.task_name, queue, job.id, job.task_id))


def _move(job: Job, target: JobState, now: datetime) -> None:
    check_transition(JobState(job.state), target)
    job.state = target
    if target in TERMINAL:
        job.finished_at = now


def cancel_job(session: Session, job: Job, now: datetime) -> Job:
    """Cancel: at once if queued (and revoke the task); a running job stops at its next batch or step."""
    if job.state in TERMINAL:
        raise Conflict(f"The job is already {job.state}.")
    job.cancel_requested = True
    if job.state == JobState.queued:
        _move(job, JobState.cancelled, now)
        if job.task_id:
            task_id = job.task_id
            broker.call_after_commit(session, lambda: broker.revoke(task_id))
    session.flush()
    return job


def to_read(job: Job, now: datetime) -> JobRead:
    out = JobRead.model_validate(job)
    if job.state == JobState.running and job.started_at and job.progress_total and job.progress_done:
        elapsed = (now - job.started_at).total_seconds()
        out.eta_seconds = round(elapsed * (job.progress_total - job.progress_done) / job.progress_done, 1)
    return out


def get_job(session: Session, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"Job {job_id} not found.")
    return job


def list_statement(
    *, kind: JobKind | None, state: JobState | None, project_ids: list[int] | None, project_id: int | None
) -> Select[Job]:
    stmt = select(Job)
    if kind is not None:
        stmt = stmt.where(Job.kind == kind)
    if state is not None:
        stmt = stmt.where(Job.state == state)
    if project_id is not None:
        stmt = stmt.where(Job.project_id == project_id)
    if project_ids is not None:
        stmt = stmt.where(Job.project_id.in_(project_ids))
    return stmt


def metrics(session: Session, job_id: int, name: str | None) -> list[MetricSeries]:
    stmt = select(JobMetric.name, JobMetric.step, JobMetric.value).where(JobMetric.job_id == job_id)
    if name:
        stmt = stmt.where(JobMetric.name == name)
    series: dict[str, MetricSeries] = defaultdict(lambda: MetricSeries(name="", steps=[], values=[]))
    for metric_name, step, value in session.execute(stmt.order_by(JobMetric.name, JobMetric.step, JobMetric.id)):
        s = series[metric_name]
        s.name = metric_name
        s.steps.append(int(step))
        s.values.append(float(value))
    return list(series.values())


def log_tail(session: Session, job_id: int, after: int, limit: int) -> list[JobLog]:
    if after:
        stmt = select(JobLog).where(JobLog.job_id == job_id, JobLog.id > after).order_by(JobLog.id).limit(limit)
        return list(session.scalars(stmt))
    stmt = select(JobLog).where(JobLog.job_id == job_id).order_by(JobLog.id.desc()).limit(limit)
    return list(reversed(list(session.scalars(stmt))))


def reap(session: Session, now: datetime) -> dict[str, int]:
    """Never stuck: re-queue or fail running jobs whose worker went silent; re-send forgotten queued jobs."""
    counts = {"requeued": 0, "failed": 0, "resent": 0}
    stale_after = timedelta(seconds=get_settings().job_stale_seconds)
    stale = session.scalars(
        select(Job)
        .where(Job.state == JobState.running, Job.heartbeat_at < now - stale_after)
        .with_for_update(skip_locked=True)
    ).all()
    for job in stale:
        spec = SPECS[JobKind(job.kind)]
        since = f"{job.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC" if job.heartbeat_at else "its start"
        lost = f"worker lost: no heartbeat from {job.worker or 'its worker'} since {since}"
        session.add(JobLog(job_id=job.id, level="warning", message=lost))
        if spec.idempotent and job.attempts < spec.max_attempts and not job.cancel_requested:
            _move(job, JobState.queued, now)
            job.task_id = uuid.uuid4().hex
            job.worker = None
            _enqueue(session, job)
            counts["requeued"] += 1
        elif job.cancel_requested:
            _move(job, JobState.cancelled, now)
        else:
            _move(job, JobState.failed, now)
            job.error = lost
            counts["failed"] += 1
    resend_after = timedelta(seconds=get_settings().job_resend_seconds)
    forgotten = session.scalars(
        select(Job).where(Job.state == JobState.queued, Job.heartbeat_at < now - resend_after)
    ).all()
    for job in forgotten:
        # The task checks the job's state before running, so a duplicate message is harmless.
        _enqueue(session, job)
        counts["resent"] += 1
    session.flush()
    return counts
