"""The model registry: base models, and the reward models and policies trained from them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow
from app.types import JSONType


class ModelKind(StrEnum):
    base = "base"
    """A pretrained or fine-tuned causal LM registered by id or path."""
    reward = "reward"
    """A reward model trained from a dataset snapshot."""
    policy = "policy"
    """A policy fine-tuned (PPO, DPO) from a parent version."""


class ModelStatus(StrEnum):
    """Terminal: ready, invalid."""

    pending = "pending"
    """Registered; a worker is checking that its config and tokenizer load."""
    ready = "ready"
    """Terminal. Loads; usable by jobs."""
    invalid = "invalid"
    """Terminal. Did not load; ``error`` says why."""


class ModelVersion(Base):
    __tablename__ = "model_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[ModelKind] = mapped_column(String(16))
    status: Mapped[ModelStatus] = mapped_column(String(16), default=ModelStatus.pending)
    source: Mapped[str] = mapped_column(String(1024), doc="A Hugging Face id, a local path, or an artifact path.")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("model_versions.id", ondelete="SET NULL"), nullable=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"), nullable=True)
    snapshot_id: Mapped[int | None] = mapped_column(
        ForeignKey("snapshots.id", ondelete="SET NULL"), nullable=True, doc="The data a trained version was made from."
    )
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    info: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
