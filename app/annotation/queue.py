"""The annotation queue: hand each annotator the next item, correctly under concurrency.

Invariants (checked by tests with 50+ concurrent annotators on PostgreSQL and SQLite):
- an item never gets more than ``overlap`` labels: a lease takes one of ``open_slots`` and only a
  lease's owner can turn it into a label;
- nobody is given the same item twice: (item, annotator) is unique in ``assignments``;
- expired leases give their slot back.

PostgreSQL: the pick is ``SELECT ... FOR UPDATE SKIP LOCKED`` on the partial index, so concurrent
pickers take different rows without waiting. SQLite: the request's transaction began with
``BEGIN IMMEDIATE``, so picks are serialised by the database's write lock.
"""

from __future__ import annotations

import random
import threading
import time
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.annotation import repository
from app.annotation.models import Assignment, Item
from app.errors import Forbidden
from app.projects.access import ProjectAccess

MAX_OPEN_LEASES = 2
"""Leases one annotator may hold per project at once: the item on screen and one prefetched."""

RECLAIM_EVERY_SECONDS = 1.0
"""Overdue leases are looked for at most this often per project and process: a lease is minutes long,
so a second's delay in reclaiming it costs nothing, and the pick stays one statement cheaper."""
_last_reclaim: dict[int, float] = {}
_reclaim_lock = threading.Lock()


def reclaim_due(project_id: int) -> bool:
    """Whether this project's overdue leases are to be looked for now (and, if so, note that they are)."""
    now = time.monotonic()
    with _reclaim_lock:
        if now - _last_reclaim.get(project_id, -RECLAIM_EVERY_SECONDS) < RECLAIM_EVERY_SECONDS:
            return False
        _last_reclaim[project_id] = now
        return True


RECLAIM_LOCK_BASE = 7_000_000_000
"""Advisory lock key base: one reclaimer per project at a time (``RECLAIM_LOCK_BASE + project id``)."""

RECLAIM_POSTGRES = """
    WITH reclaimer AS (
        SELECT pg_try_advisory_xact_lock(%(lock_key)s) AS got
    ), overdue AS (
        SELECT assignments.id FROM assignments, reclaimer
         WHERE reclaimer.got AND assignments.project_id = %(project_id)s AND assignments.state = 'leased'
           AND assignments.expires_at <= %(now)s
           FOR UPDATE OF assignments SKIP LOCKED
    ), expired AS (
        UPDATE assignments SET state = 'expired', finished_at = %(now)s
          FROM overdue WHERE assignments.id = overdue.id
        RETURNING assignments.item_id, assignments.is_gold
    ), slots AS (
        SELECT item_id, count(*) AS n FROM expired WHERE NOT is_gold GROUP BY item_id
    ), locked AS (
        SELECT items.id FROM items JOIN slots ON slots.item_id = items.id ORDER BY items.id FOR UPDATE OF items
    ), returned AS (
        UPDATE items SET open_slots = items.open_slots + slots.n
          FROM slots JOIN locked ON locked.id = slots.item_id
         WHERE items.id = slots.item_id
    )
    SELECT count(*) FROM expired
"""
"""The reclaim on PostgreSQL, one statement (shared with ``hot_path``): the others skip a project
whose leases are being reclaimed rather than queue on the same rows, and items are locked in id order."""


def reclaim_params(project_id: int, now: datetime) -> dict[str, object]:
    return {"lock_key": RECLAIM_LOCK_BASE + project_id, "project_id": project_id, "now": now}


def reclaim_expired(session: Session, project_id: int, now: datetime) -> int:
    """Return the slots of overdue leases to the pool; returns how many leases expired."""
    if session.get_bind().dialect.name == "postgresql":
        conn = session.connection()
        return int(conn.exec_driver_sql(RECLAIM_POSTGRES, reclaim_params(project_id, now)).scalar_one())
    expired = repository.expire_leases(session, project_id, now)
    slots: dict[int, int] = {}
    for item_id, is_gold in expired:
        if not is_gold:
            slots[item_id] = slots.get(item_id, 0) + 1
    for item_id in sorted(slots):  # a fixed lock order: no deadlock with another writer
        session.execute(update(Item).where(Item.id == item_id).values(open_slots=Item.open_slots + slots[item_id]))
    return len(expired)


def next_assignment(
    session: Session, access: ProjectAccess, user_id: int, now: datetime, rng: random.Random | None = None
) -> Assignment | None:
    """The caller's next lease in this project, or None when nothing is left for them."""
    project = access.project
    if access.paused:
        raise Forbidden("Your work on this project is paused by its manager.")
    if project.archived:
        raise Forbidden("This project is archived.")
    live = repository.live_leases(session, user_id, project.id, now)
    if len(live) >= MAX_OPEN_LEASES:
        return live[0]
    if reclaim_due(project.id):
        reclaim_expired(session, project.id, now)
    lock = session.get_bind().dialect.name == "postgresql"
    want_gold = project.gold_ratio > 0 and (rng or random).random() < project.gold_ratio
    order = (True, False) if want_gold else (False, True) if project.gold_ratio > 0 else (False,)
    for gold in order:
        item = session.scalar(repository.pick_statement(project.id, user_id, gold=gold, lock=lock))
        if item is not None:
            return _lease(session, item, user_id, now, project.lease_seconds)
    # Nothing new: hand back a lease still open (e.g. the prefetched one, after a page reload).
    return live[0] if live else None


def _lease(session: Session, item: Item, user_id: int, now: datetime, seconds: int) -> Assignment:
    if not item.is_gold:
        # Row-locked by the pick on PostgreSQL (FOR UPDATE), by the write lock on SQLite.
        item.open_slots -= 1
    assignment = Assignment(
        project_id=item.project_id,
        item_id=item.id,
        user_id=user_id,
        is_gold=item.is_gold,
        leased_at=now,
        expires_at=now + timedelta(seconds=seconds),
    )
    session.add(assignment)
    session.flush()
    return assignment
