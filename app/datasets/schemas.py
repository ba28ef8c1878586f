"""Snapshots as the API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from app.datasets.models import SnapshotStatus


class SnapshotRead(BaseModel):
    id: int
    project_id: int
    name: str
    spec: dict[str, Any]
    status: SnapshotStatus
    job_id: int | None
    content_hash: str | None = Field(None, description="sha256 of the spec and every row; equal data, equal hash.")
    counts: dict[str, Any] = Field(description="Rows per table (pairs, sft, raw) and split.")
    error: str | None = Field(None, description="Why the build failed (from its job).")
    created_by: int | None
    created_at: datetime
    finished_at: datetime | None
