"""Items, leases (assignments) and labels: the hot tables of the annotation queue.

The pick reads ``items`` through a partial index over rows that still have an open slot, in pick
order, so finished items never cost anything; ``open_slots`` is kept equal to
``overlap - labels_done - live leases`` by the queue service in the same transaction as each change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.annotation.states import AssignmentState
from app.db import Base, UTCDateTime, utcnow
from app.types import JSONType


class Item(Base):
    """What one annotator sees once: a prompt with 1, 2 or K candidates in a stored display order."""

    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("project_id", "group_key"),
        Index(
            "ix_items_gold",
            "project_id",
            "id",
            postgresql_where=text("is_gold"),
            sqlite_where=text("is_gold"),
        ),
        Index("ix_items_prompt_id", "prompt_id"),
        # Quality and snapshots walk a project's items prompt by prompt.
        Index("ix_items_project_id_prompt_id_id", "project_id", "prompt_id", "id"),
        # Leases and counters change on every pick and label: leave room for HOT updates and vacuum
        # this table well before the default 20% of dead rows.
        {
            "postgresql_with": {
                "fillfactor": "80",
                "autovacuum_vacuum_scale_factor": "0.02",
                "autovacuum_analyze_scale_factor": "0.05",
            }
        },
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    prompt_id: Mapped[int] = mapped_column(ForeignKey("prompts.id", ondelete="CASCADE"))
    candidate_ids: Mapped[list[int]] = mapped_column(JSONType)
    group_key: Mapped[str] = mapped_column(String(512))
    is_gold: Mapped[bool] = mapped_column(Boolean, default=False)
    gold_answer: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    overlap: Mapped[int] = mapped_column(Integer)
    labels_done: Mapped[int] = mapped_column(Integer, default=0)
    open_slots: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# The annotation pick walks this index: only items with an open slot, in pick order.
Index(
    "ix_items_pick",
    Item.project_id,
    Item.priority.desc(),
    Item.id,
    postgresql_where=text("open_slots > 0 AND NOT is_gold"),
    sqlite_where=text("open_slots > 0 AND NOT is_gold"),
)


class Assignment(Base):
    """A lease of one item to one annotator; unique per (item, annotator), so nobody gets an item twice."""

    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("item_id", "user_id"),
        Index(
            "ix_assignments_live",
            "project_id",
            "expires_at",
            postgresql_where=text("state = 'leased'"),
            sqlite_where=text("state = 'leased'"),
        ),
        Index(
            "ix_assignments_user_live",
            "user_id",
            "project_id",
            postgresql_where=text("state = 'leased'"),
            sqlite_where=text("state = 'leased'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    is_gold: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[AssignmentState] = mapped_column(String(16), default=AssignmentState.leased)
    leased_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    skip_reason: Mapped[str | None] = mapped_column(String(256), nullable=True)


class Label(Base):
    """One annotator's judgement of one item, validated against the project's task kind."""

    __tablename__ = "labels"
    __table_args__ = (
        UniqueConstraint("item_id", "user_id"),
        Index("ix_labels_project_id_created_at", "project_id", "created_at"),
        Index("ix_labels_user_id_project_id", "user_id", "project_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    is_gold: Mapped[bool] = mapped_column(Boolean, default=False)
    answer: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    flags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    rationale: Mapped[str | None] = mapped_column(Text, nullable=True)
    rewrite: Mapped[str | None] = mapped_column(Text, nullable=True)
    time_spent_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
