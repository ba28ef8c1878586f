"""Project settings as the API takes and returns them."""

from __future__ import annotations

from datetime import datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.projects.models import Grouping, ProjectRole, TaskKind
from app.types import MAX_ID


class Criterion(BaseModel):
    """One rubric criterion, scored on an integer scale from ``min`` to ``max`` (thumbs = 0..1)."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = Field("", max_length=2000)
    min: int = Field(1, ge=-100, le=100)
    max: int = Field(5, ge=-100, le=100)
    labels: list[str] | None = Field(None, description="Optional names for each point of the scale, low to high.")
    weight: float = Field(1.0, ge=0, le=100, description="Weight in the overall score.")

    @model_validator(mode="after")
    def _scale(self) -> Self:
        if self.max <= self.min:
            raise ValueError(f"criterion {self.name!r}: max must be greater than min")
        if self.labels is not None and len(self.labels) != self.max - self.min + 1:
            raise ValueError(f"criterion {self.name!r}: labels must name each of the {self.max - self.min + 1} points")
        return self


DEFAULT_CRITERIA = [Criterion(name="overall", description="Overall quality of the response.", min=1, max=5)]


class _ProjectFields(BaseModel):
    guidelines: str = Field("", max_length=200_000, description="Markdown shown to annotators.")
    overlap: int = Field(1, ge=1, le=50, description="How many different annotators label each item.")
    lease_seconds: int = Field(900, ge=30, le=7 * 86400, description="How long an item stays reserved.")
    gold_ratio: float = Field(0.0, ge=0.0, le=0.5, description="Share of picks that are gold items.")


class ProjectCreate(_ProjectFields):
    name: str = Field(min_length=1, max_length=200)
    task_kind: TaskKind
    criteria: list[Criterion] | None = Field(
        None, description="Rubric for rating projects (default: one 'overall' criterion, 1-5)."
    )
    candidates_per_item: int | None = Field(
        None, ge=1, le=10, description="1 for rating, 2 for pairwise, K (3-10) for ranking."
    )
    grouping: Grouping = Grouping.all
    max_items_per_prompt: int = Field(10, ge=1, le=1000, description="Cap on items built from one prompt.")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="Seeds display order and grouping.")

    @model_validator(mode="after")
    def _kind_rules(self) -> Self:
        expected = {TaskKind.rating: 1, TaskKind.pairwise: 2}.get(self.task_kind)
        if self.candidates_per_item is None:
            self.candidates_per_item = expected or 4
        if expected is not None and self.candidates_per_item != expected:
            raise ValueError(f"candidates_per_item must be {expected} for a {self.task_kind} project")
        if self.task_kind == TaskKind.ranking and self.candidates_per_item < 3:
            raise ValueError("candidates_per_item must be at least 3 for a ranking project")
        if self.task_kind == TaskKind.rating and not self.criteria:
            self.criteria = list(DEFAULT_CRITERIA)
        if self.criteria:
            names = [c.name for c in self.criteria]
            if len(set(names)) != len(names):
                raise ValueError("criteria names must be unique")
        if self.grouping == Grouping.anchor and self.task_kind != TaskKind.pairwise:
            raise ValueError("grouping 'anchor' is for pairwise projects")
        return self


class ProjectUpdate(BaseModel):
    """Fields that may change while a project runs. Kind and K are fixed once created."""

    name: str | None = Field(None, min_length=1, max_length=200)
    guidelines: str | None = Field(None, max_length=200_000)
    overlap: int | None = Field(None, ge=1, le=50)
    lease_seconds: int | None = Field(None, ge=30, le=7 * 86400)
    gold_ratio: float | None = Field(None, ge=0.0, le=0.5)
    criteria: list[Criterion] | None = None
    archived: bool | None = None


class ProjectRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    guidelines: str
    task_kind: TaskKind
    criteria: list[Criterion]
    candidates_per_item: int
    overlap: int
    lease_seconds: int
    gold_ratio: float
    grouping: Grouping
    max_items_per_prompt: int
    seed: int
    archived: bool
    created_at: datetime
    my_role: ProjectRole | None = Field(
        None, description="The caller's role here (null for admins who are not members)."
    )


class MemberUpsert(BaseModel):
    """Add a user to the project or change their role; name them by id or username."""

    user_id: int | None = Field(None, ge=1, le=MAX_ID)
    username: str | None = Field(None, max_length=64)
    role: ProjectRole = ProjectRole.annotator
    paused: bool = False

    @model_validator(mode="after")
    def _one_key(self) -> Self:
        if (self.user_id is None) == (self.username is None):
            raise ValueError("give exactly one of user_id or username")
        return self


class MemberRead(BaseModel):
    user_id: int
    username: str
    display_name: str
    role: ProjectRole
    paused: bool
