"""The job state machine allows exactly the documented moves."""

from __future__ import annotations

import pytest

from app.jobs.states import ALLOWED, TERMINAL, IllegalTransition, JobState, check_transition


@pytest.mark.parametrize("current", list(JobState))
@pytest.mark.parametrize("target", list(JobState))
def test_transitions(current: JobState, target: JobState) -> None:
    if target in ALLOWED[current]:
        check_transition(current, target)
    else:
        with pytest.raises(IllegalTransition):
            check_transition(current, target)


def test_terminal_states_are_final_and_running_can_be_requeued() -> None:
    assert {JobState.succeeded, JobState.failed, JobState.cancelled} == TERMINAL
    assert all(not ALLOWED[s] for s in TERMINAL)
    assert JobState.queued in ALLOWED[JobState.running]  # the reaper re-queues an idempotent job
    assert JobState.succeeded not in ALLOWED[JobState.queued]  # nothing succeeds without running
