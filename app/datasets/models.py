"""Dataset snapshots: frozen, content-hashed training data built from a project's labels."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow
from app.types import JSONType


class SnapshotStatus(StrEnum):
    """Terminal: ready, failed. Only the snapshot job moves building → ready; a failed or cancelled
    job leaves the snapshot failed."""

    building = "building"
    """Its job is queued or running."""
    ready = "ready"
    """Terminal. Files, manifest and hash are written; usable by training and exports."""
    failed = "failed"
    """Terminal. The job failed or was cancelled; see the job."""


class Snapshot(Base):
    __tablename__ = "snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    spec: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[SnapshotStatus] = mapped_column(String(16), default=SnapshotStatus.building)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"), nullable=True)
    content_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    counts: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
