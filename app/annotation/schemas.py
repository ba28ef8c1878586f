"""What annotators send and receive."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.annotation.states import AssignmentState

SUGGESTED_FLAGS = ("unusable", "unsafe", "prompt_problem", "duplicate", "other")


class CandidateView(BaseModel):
    id: int
    text: str


class PromptView(BaseModel):
    id: int
    text: str | None
    messages: list[dict[str, Any]] | None


class ItemView(BaseModel):
    """An item as an annotator sees it: no gold flag, no other annotators' work."""

    id: int
    prompt: PromptView
    candidates: list[CandidateView] = Field(description="In display order: a, b, ... for pairwise.")


class LabelSubmit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: dict[str, Any] | None = Field(
        None,
        description="rating: {scores: {criterion: int}}; pairwise: {choice: a|b|tie, strength: 1-3}; "
        "ranking: {order: [[candidate_id, ...], ...]} best first, ties share a tier. "
        "May be omitted only when flags are given.",
    )
    flags: list[str] = Field(default_factory=list, max_length=10, description=f"E.g. {', '.join(SUGGESTED_FLAGS)}.")
    rationale: str | None = Field(None, max_length=20_000)
    rewrite: str | None = Field(None, max_length=100_000, description="An improved response.")
    time_spent_ms: int | None = Field(None, ge=0, le=7 * 86400 * 1000)

    @field_validator("flags")
    @classmethod
    def _flags(cls, flags: list[str]) -> list[str]:
        for flag in flags:
            if not 1 <= len(flag) <= 64 or not flag.replace("_", "").replace("-", "").isalnum():
                raise ValueError(f"flag {flag!r} must be 1-64 letters, digits, '-' or '_'")
        return sorted(set(flags))


class SkipRequest(BaseModel):
    reason: str | None = Field(None, max_length=256)


class LabelRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    item_id: int
    assignment_id: int
    project_id: int
    answer: dict[str, Any] | None
    flags: list[str]
    rationale: str | None
    rewrite: str | None
    time_spent_ms: int | None
    created_at: datetime
    updated_at: datetime


class AssignmentRead(BaseModel):
    id: int
    project_id: int
    state: AssignmentState
    leased_at: datetime
    expires_at: datetime
    item: ItemView
    label: LabelRead | None = None


class LabelPage(BaseModel):
    items: list[LabelRead]
    next_cursor: int | None = Field(None, description="Pass as ?after= for the next page.")
