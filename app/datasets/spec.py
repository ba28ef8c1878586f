"""What a snapshot is made of: the filter, the aggregation and the split, as one typed spec.

The spec is stored with the snapshot and hashed with its rows, so the same spec over the same labels
always gives the same snapshot hash.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.types import MAX_ID


class Aggregation(StrEnum):
    """How the judgements of an item's annotators become its pairs."""

    none = "none"
    """One pair per annotator judgement (``annotator_id`` set): the raw judgements as pairs."""
    majority = "majority"
    """Majority vote (pairwise), mean rank (ranking), mean score (rating); every annotator counts the same."""
    weighted = "weighted"
    """As majority, with each annotator weighted by reliability (gold accuracy and agreement with consensus)."""


class TiePolicy(StrEnum):
    drop = "drop"
    """A tie is not a preference: no pair."""
    keep = "keep"
    """Keep ties as rows with ``tie`` true and margin 0 (exports leave them out unless asked)."""


class PairSource(StrEnum):
    pairwise = "pairwise"
    ranking = "ranking"
    rating = "rating"
    rewrite = "rewrite"


DEFAULT_EXCLUDE_FLAGS = ["unusable", "unsafe", "prompt_problem"]


class SplitRatios(BaseModel):
    model_config = ConfigDict(extra="forbid")
    train: float = Field(0.8, ge=0, le=1)
    validation: float = Field(0.1, ge=0, le=1)
    test: float = Field(0.1, ge=0, le=1)

    @model_validator(mode="after")
    def _sum(self) -> Self:
        if abs(self.train + self.validation + self.test - 1.0) > 1e-6:
            raise ValueError("split ratios must add up to 1")
        return self


class SnapshotSpec(BaseModel):
    """Which labels go in, how they are combined, and how prompts are split."""

    model_config = ConfigDict(extra="forbid")

    since: datetime | None = Field(None, description="Only labels made at or after this time (UTC).")
    until: datetime | None = Field(None, description="Only labels made before this time (UTC).")
    annotator_ids: list[int] | None = Field(
        None, max_length=10_000, description="Only these annotators' labels (default: everyone's)."
    )
    exclude_annotator_ids: list[int] = Field(default_factory=list, max_length=10_000)
    exclude_paused: bool = Field(True, description="Leave out labels of annotators whose work is paused.")
    exclude_flags: list[str] = Field(
        default_factory=lambda: list(DEFAULT_EXCLUDE_FLAGS),
        max_length=32,
        description="Leave out items any annotator flagged with one of these.",
    )
    sources: list[PairSource] = Field(
        default_factory=lambda: list(PairSource), min_length=1, description="Which kinds of pairs to make."
    )
    aggregation: Aggregation = Aggregation.majority
    min_annotators: int = Field(1, ge=1, le=50, description="Items with fewer labels than this are left out.")
    min_agreement: float | None = Field(
        None, ge=0, le=1, description="Leave out items whose annotators agree less than this (0..1)."
    )
    ties: TiePolicy = TiePolicy.drop
    rating_criterion: str | None = Field(
        None, max_length=64, description="Pair ratings on this criterion (default: the weighted overall score)."
    )
    rating_min_difference: float = Field(
        0.25, gt=0, le=1, description="Scores (scaled 0..1) closer than this make no pair; 0.25 = 1 point of 1-5."
    )
    rewrite_margin: float = Field(1.0, ge=0, le=100, description="Margin of the (rewrite ≻ original) pair.")
    include_gold: bool = Field(False, description="Also make pairs from gold items' known answers.")
    splits: SplitRatios = Field(default_factory=SplitRatios)
    use_prompt_split: bool = Field(
        True, description="A prompt imported with split train/validation/test keeps it; others are split by ratio."
    )
    seed: int = Field(0, ge=0, le=2**31 - 1)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.since and self.until and self.since >= self.until:
            raise ValueError("since must be before until")
        for ids in (self.annotator_ids or [], self.exclude_annotator_ids):
            if any(not 1 <= i <= MAX_ID for i in ids):
                raise ValueError("annotator ids must be positive integers")
        return self


class SnapshotCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    spec: SnapshotSpec = Field(default_factory=SnapshotSpec)
