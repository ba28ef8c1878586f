"""Progress numbers: per project (managers), per annotator (managers), and my own."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.annotation.models import Assignment, Item, Label
from app.annotation.states import AssignmentState
from app.auth.models import User
from app.errors import InvalidInput


class ProjectProgress(BaseModel):
    items: int = Field(description="Items to label (gold items not counted).")
    items_complete: int
    items_in_progress: int
    gold_items: int
    labels: int = Field(description="Labels on non-gold items.")
    gold_labels: int
    labels_needed: int = Field(description="items x overlap.")
    completion: float = Field(description="Share of needed labels that are done, 0-1.")
    live_leases: int
    skipped: int
    flagged: int
    labels_last_hour: int
    labels_per_hour: float = Field(description="Average over the last 24 hours.")
    active_annotators_last_hour: int


class AnnotatorProgress(BaseModel):
    user_id: int
    username: str
    labels: int
    gold_labels: int
    skipped: int
    labels_today: int
    labels_last_hour: int
    median_time_ms: float | None
    last_label_at: datetime | None


def project_progress(session: Session, project_id: int, now: datetime) -> ProjectProgress:
    not_gold = ~Item.is_gold
    item_row = session.execute(
        select(
            func.count().filter(not_gold),
            func.count().filter(not_gold & (Item.labels_done >= Item.overlap)),
            func.count().filter(not_gold & (Item.labels_done > 0) & (Item.labels_done < Item.overlap)),
            func.count().filter(Item.is_gold),
            func.coalesce(func.sum(case((not_gold, Item.overlap), else_=0)), 0),
            func.coalesce(func.sum(case((not_gold, func.min(Item.labels_done, Item.overlap)), else_=0)), 0)
            if session.get_bind().dialect.name == "sqlite"
            else func.coalesce(func.sum(case((not_gold, func.least(Item.labels_done, Item.overlap)), else_=0)), 0),
        ).where(Item.project_id == project_id)
    ).one()
    items, complete, in_progress, gold_items, needed, done_capped = (int(v or 0) for v in item_row)
    hour, day = now - timedelta(hours=1), now - timedelta(days=1)
    label_row = session.execute(
        select(
            func.count().filter(~Label.is_gold),
            func.count().filter(Label.is_gold),
            func.count().filter(func.json_array_length(Label.flags) > 0)
            if session.get_bind().dialect.name == "sqlite"
            else func.count().filter(func.jsonb_array_length(Label.flags) > 0),
            func.count().filter(Label.created_at >= hour),
            func.count().filter(Label.created_at >= day),
            func.count(func.distinct(case((Label.created_at >= hour, Label.user_id)))),
        ).where(Label.project_id == project_id)
    ).one()
    labels, gold_labels, flagged, last_hour, last_day, active = (int(v or 0) for v in label_row)
    lease_row = session.execute(
        select(
            func.count().filter((Assignment.state == AssignmentState.leased) & (Assignment.expires_at > now)),
            func.count().filter(Assignment.state == AssignmentState.skipped),
        ).where(Assignment.project_id == project_id)
    ).one()
    return ProjectProgress(
        items=items,
        items_complete=complete,
        items_in_progress=in_progress,
        gold_items=gold_items,
        labels=labels,
        gold_labels=gold_labels,
        labels_needed=needed,
        completion=round(done_capped / needed, 6) if needed else 0.0,
        live_leases=int(lease_row[0] or 0),
        skipped=int(lease_row[1] or 0),
        flagged=flagged,
        labels_last_hour=last_hour,
        labels_per_hour=round(last_day / 24, 3),
        active_annotators_last_hour=active,
    )


def time_zone(name: str) -> ZoneInfo:
    """An IANA time zone by name (``Europe/Berlin``, ``UTC``), or a 422 naming the ``tz`` parameter."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        detail = f"Unknown time zone {name!r}: use an IANA name such as 'Europe/Berlin'."
        raise InvalidInput(detail, field="tz") from None


def start_of_day(now: datetime, zone: tzinfo) -> datetime:
    """The last midnight in ``zone`` before ``now``, in UTC ("today" is the caller's day, not UTC's)."""
    local = now.astimezone(zone)
    return datetime.combine(local.date(), time.min, tzinfo=zone).astimezone(UTC)


def annotator_progress(
    session: Session, project_id: int, now: datetime, user_id: int | None = None, zone: tzinfo = UTC
) -> list[AnnotatorProgress]:
    """One row per annotator who has worked on the project (only ``user_id`` when given); their labels
    today count from midnight in ``zone``."""
    hour = now - timedelta(hours=1)
    today = start_of_day(now, zone)
    label_stmt = (
        select(
            Label.user_id,
            func.count().filter(~Label.is_gold),
            func.count().filter(Label.is_gold),
            func.count().filter(Label.created_at >= today),
            func.count().filter(Label.created_at >= hour),
            func.max(Label.created_at),
        )
        .where(Label.project_id == project_id)
        .group_by(Label.user_id)
    )
    skip_stmt = (
        select(Assignment.user_id, func.count())
        .where(Assignment.project_id == project_id, Assignment.state == AssignmentState.skipped)
        .group_by(Assignment.user_id)
    )
    if user_id is not None:
        label_stmt = label_stmt.where(Label.user_id == user_id)
        skip_stmt = skip_stmt.where(Assignment.user_id == user_id)
    stats = {r[0]: r for r in session.execute(label_stmt)}
    skips = {r[0]: int(r[1]) for r in session.execute(skip_stmt)}
    user_ids = sorted(set(stats) | set(skips) | ({user_id} if user_id is not None else set()))
    names = dict(session.execute(select(User.id, User.username).where(User.id.in_(user_ids))).all()) if user_ids else {}
    out = []
    for uid in user_ids:
        row = stats.get(uid)
        out.append(
            AnnotatorProgress(
                user_id=uid,
                username=names.get(uid, "?"),
                labels=int(row[1]) if row else 0,
                gold_labels=int(row[2]) if row else 0,
                skipped=skips.get(uid, 0),
                labels_today=int(row[3]) if row else 0,
                labels_last_hour=int(row[4]) if row else 0,
                median_time_ms=_median_time(session, project_id, uid),
                last_label_at=_as_utc(row[5]) if row else None,
            )
        )
    return out


def _median_time(session: Session, project_id: int, user_id: int) -> float | None:
    times = sorted(
        t
        for t in session.scalars(
            select(Label.time_spent_ms)
            .where(Label.project_id == project_id, Label.user_id == user_id, Label.time_spent_ms.is_not(None))
            .order_by(Label.id.desc())
            .limit(1000)
        )
        if t is not None
    )
    if not times:
        return None
    mid = len(times) // 2
    return float(times[mid]) if len(times) % 2 else (times[mid - 1] + times[mid]) / 2


def _as_utc(value: datetime | str | None) -> datetime | None:
    # Aggregates bypass the column type on SQLite and come back naive (or as text).
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
