"""Jobs as the API takes and shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.jobs.kinds import JobKind
from app.jobs.states import JobState
from app.types import MAX_ID


class JobCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: JobKind
    project_id: int | None = Field(None, ge=1, le=MAX_ID)
    params: dict[str, Any] = Field(default_factory=dict, description="Validated per kind.")


class JobRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    state: JobState
    project_id: int | None
    params: dict[str, Any]
    result: dict[str, Any]
    created_by: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    worker: str | None
    attempts: int
    progress_done: int
    progress_total: int | None
    progress_note: str | None
    cancel_requested: bool
    error: str | None
    eta_seconds: float | None = Field(None, description="From the rate so far; null until there is one.")


class JobPage(BaseModel):
    items: list[JobRead]
    next_cursor: int | None


class MetricSeries(BaseModel):
    name: str
    steps: list[int]
    values: list[float]


class LogLine(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    level: str
    message: str
    created_at: datetime
