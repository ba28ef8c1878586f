"""Quality reports and review actions as the API takes and shows them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.types import MAX_ID


class AgreementMetric(BaseModel):
    name: str = Field(description="E.g. krippendorff_alpha, fleiss_kappa, percent_agreement, kendall_w.")
    value: float | None = Field(description="Null where the statistic is undefined (too little data).")
    n: int = Field(description="Units (items or annotator pairs) it was computed over.")
    criterion: str | None = Field(None, description="The rubric criterion, for per-criterion metrics.")


class TimelinePoint(BaseModel):
    day: date
    labels: int
    mean_agreement: float | None = Field(description="Mean item agreement of items labelled that day.")
    items: int = Field(description="Items with 2+ labels whose latest label is from that day.")


class QualityReport(BaseModel):
    task_kind: str
    labels: int
    items_labelled: int
    items_with_overlap: int = Field(description="Items with two or more answers: what agreement is measured on.")
    gold_items: int
    adjudicated_items: int
    mean_item_agreement: float | None
    agreement_histogram: list[int] = Field(description="Items with overlap per tenth of agreement, 0-0.1 … 0.9-1.")
    metrics: list[AgreementMetric]
    timeline: list[TimelinePoint]


class AnnotatorQuality(BaseModel):
    user_id: int
    username: str
    display_name: str | None
    role: str | None
    paused: bool
    labels: int
    gold_items: int
    gold_accuracy: float | None = Field(description="Mean 0..1 closeness to gold answers.")
    compared_items: int
    consensus_agreement: float | None = Field(description="Mean 0..1 closeness to the other annotators' consensus.")
    first_pick_share: float | None = Field(description="How often the first-shown response was preferred.")
    first_pick_chance: float
    position_bias_p: float | None
    median_time_ms: float | None
    fast_share: float | None
    reliability_weight: float = Field(description="Weight in the 'weighted' aggregation (log-odds of accuracy).")
    flags: list[str] = Field(description="position_bias, too_fast, low_agreement, low_gold_accuracy.")


class ItemAgreement(BaseModel):
    item_id: int
    prompt_id: int
    labels: int
    agreement: float | None
    adjudicated: bool


class ItemAgreementPage(BaseModel):
    items: list[ItemAgreement]
    next_cursor: int | None = Field(None, description="Pass as ?after= for the next page.")


class ReviewLabel(BaseModel):
    label_id: int
    user_id: int
    username: str
    answer: dict[str, Any] | None
    flags: list[str]
    rationale: str | None
    rewrite: str | None
    time_spent_ms: int | None
    created_at: datetime


class CandidateText(BaseModel):
    id: int
    text: str


class ReviewItem(BaseModel):
    item_id: int
    prompt_id: int
    prompt_text: str | None
    prompt_messages: list[dict[str, Any]] | None
    candidates: list[CandidateText] = Field(description="In display order (a, b, ... for pairwise).")
    is_gold: bool
    gold_answer: dict[str, Any] | None
    agreement: float | None
    labels: list[ReviewLabel]
    adjudication: AdjudicationRead | None


class AdjudicationWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answer: dict[str, Any] = Field(description="Same shape as a label's answer for this project's task kind.")
    note: str | None = Field(None, max_length=20_000)


class AdjudicationRead(BaseModel):
    item_id: int
    answer: dict[str, Any]
    note: str | None
    reviewer_id: int | None
    updated_at: datetime


class GoldWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answer: dict[str, Any] = Field(description="The known answer, same shape as a label's answer.")


class GoldEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    item_id: int = Field(ge=1, le=MAX_ID)
    answer: dict[str, Any]


class GoldImport(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[GoldEntry] = Field(min_length=1, max_length=10_000)


class GoldResult(BaseModel):
    marked: int


class RequeueRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_agreement: float = Field(ge=0, le=1, description="Items agreeing less than this get more labels.")
    extra_labels: int = Field(1, ge=1, le=20, description="How many more annotators each such item needs.")
    limit: int = Field(1000, ge=1, le=100_000)


class RequeueResult(BaseModel):
    requeued: int
    item_ids: list[int]


class ProjectItem(BaseModel):
    id: int
    prompt_id: int
    candidate_ids: list[int]
    is_gold: bool
    gold_answer: dict[str, Any] | None
    overlap: int
    labels_done: int


class ProjectItemPage(BaseModel):
    items: list[ProjectItem]
    next_cursor: int | None
