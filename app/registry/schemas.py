"""Model versions as the API takes and shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.registry.models import ModelKind, ModelStatus


class ModelRegister(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    source: str = Field(
        min_length=1, max_length=1024, description="A Hugging Face model id (e.g. 'gpt2') or a local directory."
    )


class ModelVersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: ModelKind
    status: ModelStatus
    source: str
    parent_id: int | None
    job_id: int | None
    snapshot_id: int | None
    metrics: dict[str, Any]
    info: dict[str, Any]
    error: str | None
    created_at: datetime


class ModelRegistered(ModelVersionRead):
    validation_job_id: int = Field(description="The job that checks the model loads.")
