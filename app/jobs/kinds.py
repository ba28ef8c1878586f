"""Every kind of job: its Celery task name, queue, parameters and retry policy.

Parameters are validated with Pydantic when the job is created, so a worker never starts a job with
bad input. Later kinds (snapshot, reward, ppo, dpo, evaluation, export) register here the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from app.types import MAX_ID


class JobKind(StrEnum):
    smoke = "smoke"
    validate_model = "validate_model"
    generation = "generation"


class SmokeParams(BaseModel):
    """A job that only counts steps: checks that workers of a queue run, report, cancel and recover."""

    model_config = ConfigDict(extra="forbid")
    steps: int = Field(5, ge=1, le=100_000)
    step_seconds: float = Field(0.1, ge=0.0, le=60.0)
    queue: str = Field("cpu", pattern="^(cpu|gpu)$")
    fail_at: int | None = Field(None, ge=1, description="Raise an error at this step (to test failure handling).")


class ValidateModelParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model_version_id: int = Field(ge=1, le=MAX_ID)


class PromptSelection(StrEnum):
    all = "all"
    """Every prompt of the project."""
    in_split = "split"
    """Only prompts whose split equals ``split``."""
    missing = "missing"
    """Prompts with fewer than ``k`` candidates from this model version."""


class GenerationParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model_version_id: int = Field(ge=1, le=MAX_ID, description="The model version that samples.")
    prompts: PromptSelection = PromptSelection.missing
    split: str | None = Field(None, max_length=32, description="For prompts='split'.")
    k: int = Field(2, ge=1, le=16, description="Candidates per prompt.")
    temperature: float = Field(1.0, ge=0.0, le=5.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    max_new_tokens: int = Field(64, ge=1, le=4096)
    seed: int = Field(0, ge=0, le=2**31 - 1)
    batch_size: int = Field(16, ge=1, le=512)
    limit: int | None = Field(None, ge=1, le=10_000_000, description="At most this many prompts.")


@dataclass(frozen=True)
class KindSpec:
    task_name: str
    queue: str
    params: type[BaseModel]
    idempotent: bool
    """Safe to run again after a crash (re-queued by the reaper); otherwise a lost worker fails the job."""
    needs_project: bool
    max_attempts: int = 3


SPECS: dict[JobKind, KindSpec] = {
    JobKind.smoke: KindSpec("prefloop.smoke", "cpu", SmokeParams, True, False),
    JobKind.validate_model: KindSpec("prefloop.validate_model", "cpu", ValidateModelParams, True, False),
    JobKind.generation: KindSpec("prefloop.gpu.generation", "gpu", GenerationParams, True, True),
}
