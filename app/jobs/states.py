"""The job state machine. Only app.jobs.service moves a job between states."""

from __future__ import annotations

from enum import StrEnum


class JobState(StrEnum):
    """Where a job stands. Terminal: succeeded, failed, cancelled."""

    queued = "queued"
    """Created and handed to the broker; no worker has started it (or it was re-queued after a worker died)."""
    running = "running"
    """A worker is executing it and sends heartbeats."""
    succeeded = "succeeded"
    """Terminal. Finished; its outputs are stored."""
    failed = "failed"
    """Terminal. Stopped by an error, or its worker was lost; ``error`` says why."""
    cancelled = "cancelled"
    """Terminal. Stopped at a user's request (before it started, or between two batches/steps)."""


TERMINAL = frozenset({JobState.succeeded, JobState.failed, JobState.cancelled})

ALLOWED: dict[JobState, frozenset[JobState]] = {
    JobState.queued: frozenset({JobState.running, JobState.cancelled, JobState.failed}),
    JobState.running: frozenset({JobState.succeeded, JobState.failed, JobState.cancelled, JobState.queued}),
    JobState.succeeded: frozenset(),
    JobState.failed: frozenset(),
    JobState.cancelled: frozenset(),
}
"""running → queued is the reaper re-queueing an idempotent job whose worker died."""


class IllegalTransition(Exception):
    def __init__(self, current: JobState, target: JobState) -> None:
        super().__init__(f"a {current} job cannot become {target}")
        self.current = current
        self.target = target


def check_transition(current: JobState, target: JobState) -> None:
    if target not in ALLOWED[current]:
        raise IllegalTransition(current, target)
