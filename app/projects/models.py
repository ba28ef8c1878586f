"""Projects and who works on them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow
from app.types import JSONType


class TaskKind(StrEnum):
    """What an annotator does with one item."""

    rating = "rating"
    """One response, a score per rubric criterion."""
    pairwise = "pairwise"
    """Two responses: A, B or tie, with a strength."""
    ranking = "ranking"
    """K responses in a full order, ties allowed."""


class Grouping(StrEnum):
    """How a prompt's candidates are grouped into items (pairs for pairwise, K-sets for ranking)."""

    all = "all"
    """Every combination: all N(N-1)/2 pairs; for ranking, every K-subset (capped by max_items_per_prompt)."""
    disjoint = "disjoint"
    """Shuffle the candidates and cut them into disjoint groups; leftovers are dropped."""
    anchor = "anchor"
    """Each candidate against the prompt's first candidate (e.g. a reference answer); pairwise only."""


class ProjectRole(StrEnum):
    """A member's role inside one project."""

    annotator = "annotator"
    """Labels items; sees only their own labels."""
    reviewer = "reviewer"
    """Labels, and reviews others' labels."""
    manager = "manager"
    """Edits the project, imports data, manages members, sees everything in the project."""


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    guidelines: Mapped[str] = mapped_column(Text, default="")
    task_kind: Mapped[TaskKind] = mapped_column(String(16))
    criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    candidates_per_item: Mapped[int] = mapped_column(Integer)
    overlap: Mapped[int] = mapped_column(Integer, default=1)
    lease_seconds: Mapped[int] = mapped_column(Integer, default=900)
    gold_ratio: Mapped[float] = mapped_column(Float, default=0.0)
    grouping: Mapped[Grouping] = mapped_column(String(16), default=Grouping.all)
    max_items_per_prompt: Mapped[int] = mapped_column(Integer, default=10)
    seed: Mapped[int] = mapped_column(Integer, default=0)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)


class ProjectMember(Base):
    __tablename__ = "project_members"
    __table_args__ = (UniqueConstraint("project_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[ProjectRole] = mapped_column(String(16))
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
