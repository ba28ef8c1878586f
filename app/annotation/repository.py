"""Scoped queries: an annotator only ever reaches their own assignments and labels."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, literal, select, text, update
from sqlalchemy.orm import Session

from app.annotation.models import Assignment, Item, Label
from app.annotation.states import AssignmentState


def own_assignment(session: Session, user_id: int, assignment_id: int, *, lock: bool = False) -> Assignment | None:
    stmt = select(Assignment).where(Assignment.id == assignment_id, Assignment.user_id == user_id)
    if lock and session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return session.scalar(stmt)


def own_label(session: Session, user_id: int, label_id: int) -> Label | None:
    return session.scalar(select(Label).where(Label.id == label_id, Label.user_id == user_id))


def own_labels(session: Session, user_id: int, project_id: int, after: int, limit: int) -> list[Label]:
    stmt = (
        select(Label)
        .where(Label.user_id == user_id, Label.project_id == project_id, Label.id > after)
        .order_by(Label.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def label_for(session: Session, item_id: int, user_id: int) -> Label | None:
    return session.scalar(select(Label).where(Label.item_id == item_id, Label.user_id == user_id))


def live_leases(session: Session, user_id: int, project_id: int, now: datetime) -> list[Assignment]:
    stmt = (
        select(Assignment)
        .where(
            Assignment.user_id == user_id,
            Assignment.project_id == project_id,
            Assignment.state == AssignmentState.leased,
            Assignment.expires_at > now,
        )
        .order_by(Assignment.id)
    )
    return list(session.scalars(stmt))


def pick_statement(project_id: int, user_id: int, *, gold: bool, lock: bool) -> Select[Item]:
    """The next item for this annotator: index-driven, skipping rows other pickers hold right now."""
    # A probe of uq_assignments_item_id_user_id per item walked, whatever the statistics say: written as
    # NOT EXISTS, PostgreSQL may plan an anti-join that reads all of the annotator's assignments (it did
    # with stale statistics, at 10x the cost of the pick); a LIMITed scalar subquery is never flattened.
    seen = select(literal(1)).where(Assignment.item_id == Item.id, Assignment.user_id == user_id).limit(1)
    stmt = select(Item).where(Item.project_id == project_id, seen.scalar_subquery().is_(None))
    if gold:
        stmt = stmt.where(Item.is_gold).order_by(Item.id)
    else:
        # Written exactly as the partial index ix_items_pick's predicate, so both planners match it
        # (SQLAlchemy would render NOT is_gold as "is_gold = 0" on SQLite, which SQLite does not match).
        stmt = stmt.where(Item.open_slots > 0, text("NOT items.is_gold")).order_by(Item.priority.desc(), Item.id)
    stmt = stmt.limit(1)
    if lock:
        stmt = stmt.with_for_update(skip_locked=True)
    return stmt


def expire_leases(session: Session, project_id: int, now: datetime) -> list[tuple[int, bool]]:
    """Mark this project's overdue leases expired; returns (item_id, is_gold) of each one changed.

    SQLite only (its write transaction serialises reclaimers); PostgreSQL runs ``queue.RECLAIM_POSTGRES``.
    """
    overdue = select(Assignment.id).where(
        Assignment.project_id == project_id,
        Assignment.state == AssignmentState.leased,
        Assignment.expires_at <= now,
    )
    stmt = (
        update(Assignment)
        .where(Assignment.id.in_(overdue.scalar_subquery()), Assignment.state == AssignmentState.leased)
        .values(state=AssignmentState.expired, finished_at=now)
        .returning(Assignment.item_id, Assignment.is_gold)
        .execution_options(synchronize_session=False)
    )
    return [(row[0], row[1]) for row in session.execute(stmt)]
