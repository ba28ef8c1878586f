"""Review actions: mark gold items, adjudicate disagreements, send items back for more labels.

Gold and adjudicated answers are validated exactly like an annotator's answer for the project.
Changing whether an item is gold keeps the queue's invariant (``open_slots = overlap - labels - live
leases`` for non-gold items; gold items are never in the normal pick) in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.annotation.answers import validate_answer
from app.annotation.models import Assignment, Item, Label
from app.annotation.states import AssignmentState
from app.annotation.views import item_view
from app.auth.models import User
from app.errors import NotFound
from app.projects.models import Project, TaskKind
from app.quality.models import Adjudication
from app.quality.repository import ItemGroup, LabelFilter, LabelRow, iter_prompt_groups
from app.quality.schemas import (
    AdjudicationRead,
    AdjudicationWrite,
    CandidateText,
    ReviewItem,
    ReviewLabel,
)
from app.quality.service import item_agreement, rubric_of


def project_item(session: Session, project_id: int, item_id: int, *, lock: bool = False) -> Item:
    stmt = select(Item).where(Item.id == item_id, Item.project_id == project_id)
    item = session.scalar(stmt.with_for_update() if lock else stmt)
    if item is None:
        raise NotFound(f"Item {item_id} not found in project {project_id}.")
    return item


def _validated(project: Project, item: Item, answer: dict[str, Any]) -> dict[str, Any]:
    return validate_answer(
        TaskKind(project.task_kind), answer, criteria=project.criteria, candidate_ids=list(item.candidate_ids)
    )


def mark_gold(session: Session, project: Project, item: Item, answer: dict[str, Any]) -> Item:
    """Make an item gold with its known answer (or change the answer of a gold item)."""
    item.gold_answer = _validated(project, item, answer)
    if not item.is_gold:
        item.is_gold = True
        item.open_slots = 0
        session.execute(update(Label).where(Label.item_id == item.id).values(is_gold=True))
    session.flush()
    return item


def unmark_gold(session: Session, item: Item) -> Item:
    """Back to a normal item: its labels count toward overlap again and free slots reopen."""
    if item.is_gold:
        session.execute(update(Label).where(Label.item_id == item.id).values(is_gold=False))
        labels = session.scalar(select(func.count()).select_from(Label).where(Label.item_id == item.id)) or 0
        live = session.scalar(
            select(func.count())
            .select_from(Assignment)
            .where(Assignment.item_id == item.id, Assignment.state == AssignmentState.leased)
        )
        item.is_gold = False
        item.gold_answer = None
        item.labels_done = labels
        item.open_slots = max(0, item.overlap - labels - (live or 0))
    session.flush()
    return item


def adjudicate(
    session: Session, project: Project, item: Item, data: AdjudicationWrite, reviewer_id: int, now: datetime
) -> Adjudication:
    answer = _validated(project, item, data.answer)
    adj = session.scalar(select(Adjudication).where(Adjudication.item_id == item.id))
    if adj is None:
        adj = Adjudication(project_id=project.id, item_id=item.id, answer=answer, created_at=now)
        session.add(adj)
    adj.answer = answer
    adj.note = data.note
    adj.reviewer_id = reviewer_id
    adj.updated_at = now
    session.flush()
    return adj


def remove_adjudication(session: Session, item: Item) -> None:
    adj = session.scalar(select(Adjudication).where(Adjudication.item_id == item.id))
    if adj is None:
        raise NotFound(f"Item {item.id} has no adjudication.")
    session.delete(adj)
    session.flush()


def to_adjudication_read(adj: Adjudication) -> AdjudicationRead:
    return AdjudicationRead(
        item_id=adj.item_id, answer=adj.answer, note=adj.note, reviewer_id=adj.reviewer_id, updated_at=adj.updated_at
    )


def review_item(session: Session, project: Project, item: Item) -> ReviewItem:
    """An item with every annotator's label, for a reviewer to judge."""
    view = item_view(session, item)
    rows = session.execute(
        select(Label, User.username)
        .join(User, User.id == Label.user_id)
        .where(Label.item_id == item.id)
        .order_by(Label.id)
    ).all()
    adj = session.scalar(select(Adjudication).where(Adjudication.item_id == item.id))
    group = ItemGroup(item.id, item.prompt_id, list(item.candidate_ids), item.is_gold, item.gold_answer)
    group.labels = [_label_row(lab) for lab, _ in rows]
    return ReviewItem(
        item_id=item.id,
        prompt_id=item.prompt_id,
        prompt_text=view.prompt.text,
        prompt_messages=view.prompt.messages,
        candidates=[CandidateText(id=c.id, text=c.text) for c in view.candidates],
        is_gold=item.is_gold,
        gold_answer=item.gold_answer,
        agreement=item_agreement(TaskKind(project.task_kind), group, rubric_of(project)),
        labels=[
            ReviewLabel(
                label_id=lab.id,
                user_id=lab.user_id,
                username=username,
                answer=lab.answer,
                flags=list(lab.flags or []),
                rationale=lab.rationale,
                rewrite=lab.rewrite,
                time_spent_ms=lab.time_spent_ms,
                created_at=lab.created_at,
            )
            for lab, username in rows
        ],
        adjudication=to_adjudication_read(adj) if adj else None,
    )


def _label_row(lab: Label) -> LabelRow:
    return LabelRow(
        lab.id,
        lab.user_id,
        lab.answer,
        list(lab.flags or []),
        lab.rationale,
        lab.rewrite,
        lab.time_spent_ms,
        lab.created_at,
        lab.updated_at,
    )


def requeue_low_agreement(
    session: Session, project: Project, *, max_agreement: float, extra_labels: int, limit: int
) -> list[int]:
    """Raise overlap (and open slots) of non-adjudicated items agreeing less than ``max_agreement``."""
    kind = TaskKind(project.task_kind)
    rubric = rubric_of(project)
    chosen: list[int] = []
    for _, items in iter_prompt_groups(session, project.id, LabelFilter(), include_gold=False):
        for group in items:
            if group.adjudication is not None:
                continue
            agreement = item_agreement(kind, group, rubric)
            if agreement is not None and agreement < max_agreement:
                chosen.append(group.item_id)
                if len(chosen) >= limit:
                    break
        if len(chosen) >= limit:
            break
    if chosen:
        session.execute(
            update(Item)
            .where(Item.id.in_(chosen))
            .values(overlap=Item.overlap + extra_labels, open_slots=Item.open_slots + extra_labels)
        )
    return chosen
