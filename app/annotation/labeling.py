"""Submitting, editing and skipping: the write side of annotation.

A submit is idempotent per assignment: the retried request finds the label it already stored and
returns it (or updates it, while the item is still open), never a second label.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.annotation import repository
from app.annotation.answers import validate_answer
from app.annotation.models import Assignment, Item, Label
from app.annotation.schemas import LabelSubmit, SkipRequest
from app.annotation.states import AssignmentState
from app.errors import Conflict, InvalidInput, NotFound
from app.projects.models import Project, TaskKind


def normalise(
    task_kind: str, criteria: list[dict[str, Any]], candidate_ids: list[int], data: LabelSubmit
) -> dict[str, Any] | None:
    """The answer to store (validated for the project's task kind), or None for a flag-only label."""
    if data.answer is None:
        if not data.flags:
            raise InvalidInput("Give an answer, or flag the item (e.g. 'unusable').", field="answer")
        return None
    return validate_answer(TaskKind(task_kind), data.answer, criteria=criteria, candidate_ids=list(candidate_ids))


def _normalise(project: Project, item: Item, data: LabelSubmit) -> dict[str, Any] | None:
    return normalise(project.task_kind, project.criteria, item.candidate_ids, data)


def _is_complete(item: Item) -> bool:
    return not item.is_gold and item.labels_done >= item.overlap


def _same(label: Label, answer: dict[str, Any] | None, data: LabelSubmit) -> bool:
    return (label.answer, label.flags, label.rationale, label.rewrite) == (
        answer,
        data.flags,
        data.rationale,
        data.rewrite,
    )


def _apply(label: Label, answer: dict[str, Any] | None, data: LabelSubmit) -> None:
    label.answer = answer
    label.flags = data.flags
    label.rationale = data.rationale
    label.rewrite = data.rewrite
    if data.time_spent_ms is not None:
        label.time_spent_ms = data.time_spent_ms


def submit_label(
    session: Session, project: Project, assignment: Assignment, data: LabelSubmit, now: datetime
) -> tuple[Label, bool]:
    """Store the annotator's label for their assignment; returns (label, created)."""
    item = session.get(Item, assignment.item_id, with_for_update=session.get_bind().dialect.name == "postgresql")
    if item is None:
        raise NotFound("The item no longer exists.")
    answer = _normalise(project, item, data)
    # A label exists only once its assignment is submitted: the common first submit skips the lookup.
    existing = (
        repository.label_for(session, item.id, assignment.user_id)
        if assignment.state == AssignmentState.submitted
        else None
    )
    if existing is not None:
        if not _same(existing, answer, data):
            if _is_complete(item):
                raise Conflict("The item is complete; its labels can no longer be changed.")
            _apply(existing, answer, data)
        session.flush()
        return existing, False
    if assignment.state == AssignmentState.skipped:
        raise Conflict("You skipped this item; it can no longer be labelled by you.")
    if assignment.state == AssignmentState.expired and not item.is_gold:
        # The lease ran out and its slot went back to the pool: take one again if the item has room.
        took = session.execute(
            update(Item)
            .where(Item.id == item.id, Item.open_slots > 0)
            .values(open_slots=Item.open_slots - 1)
            .execution_options(synchronize_session=False)
        )
        if took.rowcount == 0:  # type: ignore[attr-defined]
            raise Conflict("Your lease expired and the item has since been fully labelled by others.")
    session.execute(
        update(Item)
        .where(Item.id == item.id)
        .values(labels_done=Item.labels_done + 1)
        .execution_options(synchronize_session=False)
    )
    assignment.state = AssignmentState.submitted
    assignment.finished_at = now
    label = Label(
        project_id=project.id,
        item_id=item.id,
        assignment_id=assignment.id,
        user_id=assignment.user_id,
        is_gold=item.is_gold,
        created_at=now,
        updated_at=now,
    )
    _apply(label, answer, data)
    session.add(label)
    session.flush()
    return label, True


def edit_label(session: Session, project: Project, label: Label, data: LabelSubmit) -> Label:
    item = session.get(Item, label.item_id)
    if item is None:
        raise NotFound("The item no longer exists.")
    answer = _normalise(project, item, data)
    if _same(label, answer, data):
        return label
    if _is_complete(item):
        raise Conflict("The item is complete; its labels can no longer be changed.")
    _apply(label, answer, data)
    session.flush()
    return label


def skip(session: Session, assignment: Assignment, data: SkipRequest, now: datetime) -> Assignment:
    """Pass on an item: its slot goes back to the pool and this annotator will not get it again."""
    if assignment.state == AssignmentState.skipped:
        return assignment
    if assignment.state == AssignmentState.submitted:
        raise Conflict("This item is already labelled; edit the label instead of skipping.")
    if assignment.state == AssignmentState.leased and not assignment.is_gold:
        session.execute(
            update(Item)
            .where(Item.id == assignment.item_id)
            .values(open_slots=Item.open_slots + 1)
            .execution_options(synchronize_session=False)
        )
    assignment.state = AssignmentState.skipped
    assignment.finished_at = now
    assignment.skip_reason = data.reason
    session.flush()
    return assignment


def extend_lease(assignment: Assignment, project: Project, now: datetime) -> Assignment:
    """Keep working on an item: a live lease runs for another ``lease_seconds`` from now.

    Only a live lease: once it has expired its slot may already be someone else's (a late submit is
    still accepted while the item has room).
    """
    if assignment.state != AssignmentState.leased or assignment.expires_at <= now:
        state = "expired" if assignment.state == AssignmentState.leased else assignment.state
        raise Conflict(f"This lease is {state}; it cannot be extended.")
    assignment.expires_at = now + timedelta(seconds=project.lease_seconds)
    return assignment
