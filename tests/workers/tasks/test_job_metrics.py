"""A job's curves across attempts: a retried job's points replace those its dead attempt recorded from the
step it goes on from (a checkpoint, or the start), so every step has one value and no stale tail is left."""

from __future__ import annotations

from sqlalchemy import Engine

from app.db import session_scope
from app.jobs import service
from app.jobs.models import Job
from app.jobs.states import JobState
from workers.tasks.runtime import JobContext


def _job() -> int:
    with session_scope() as s:
        job = Job(kind="smoke", state=JobState.running, params={}, result={}, task_id="t", attempts=1, progress_done=0)
        s.add(job)
        s.flush()
        return job.id


def _curves(job_id: int) -> dict[str, list[tuple[int, float]]]:
    with session_scope(write=False) as s:
        return {c.name: list(zip(c.steps, c.values, strict=True)) for c in service.metrics(s, job_id, None)}


def test_a_resumed_attempt_replaces_the_dead_attempts_points_from_its_checkpoint_on(engine: Engine) -> None:
    job_id = _job()
    first = JobContext(job_id, {}, None, attempt=1)
    for step in range(1, 11):
        first.metrics(step, {"loss": 1.0, "reward": 0.0})
    first.metrics(10, {"eval_accuracy": 0.5})
    # The worker died after step 10; the next attempt resumes from the checkpoint at step 6.
    second = JobContext(job_id, {}, None, attempt=2)
    for step in range(6, 9):
        second.metrics(step, {"loss": 2.0, "reward": 1.0})

    curves = _curves(job_id)
    expected = [(step, 1.0) for step in range(1, 6)] + [(step, 2.0) for step in range(6, 9)]
    assert curves["loss"] == expected
    assert curves["reward"] == [(step, 0.0) for step in range(1, 6)] + [(step, 1.0) for step in range(6, 9)]
    # A curve the new attempt has not reached yet keeps the old attempt's points until it does.
    assert curves["eval_accuracy"] == [(10, 0.5)]


def test_within_one_attempt_nothing_is_replaced(engine: Engine) -> None:
    job_id = _job()
    ctx = JobContext(job_id, {}, None, attempt=1)
    ctx.metrics(1, {"loss": 1.0})
    ctx.metrics(1, {"loss": 0.5})  # a step reported twice in one attempt keeps both points
    assert _curves(job_id)["loss"] == [(1, 1.0), (1, 0.5)]
