"""Reading a project's labels item by item, prompt by prompt, in bounded memory.

Quality reports and snapshot builds both walk every labelled item of a project; this walks them in
(prompt, item) order in chunks, with Core selects (no ORM identity map growing with the project).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.annotation.models import Item, Label
from app.projects.models import ProjectMember
from app.quality.models import Adjudication


@dataclass(frozen=True, slots=True)
class LabelRow:
    label_id: int
    user_id: int
    answer: dict[str, Any] | None
    flags: list[str]
    rationale: str | None
    rewrite: str | None
    time_spent_ms: int | None
    created_at: datetime
    updated_at: datetime


@dataclass(slots=True)
class ItemGroup:
    item_id: int
    prompt_id: int
    candidate_ids: list[int]
    is_gold: bool
    gold_answer: dict[str, Any] | None
    labels: list[LabelRow] = field(default_factory=list)
    adjudication: dict[str, Any] | None = None

    @property
    def answered(self) -> list[LabelRow]:
        """Labels with an answer (a flag-only label judges nothing)."""
        return [lab for lab in self.labels if lab.answer is not None]


@dataclass(frozen=True, slots=True)
class LabelFilter:
    since: datetime | None = None
    until: datetime | None = None
    annotator_ids: Sequence[int] | None = None
    exclude_annotator_ids: Sequence[int] = ()


def paused_annotators(session: Session, project_id: int) -> list[int]:
    return list(
        session.scalars(
            select(ProjectMember.user_id).where(ProjectMember.project_id == project_id, ProjectMember.paused)
        )
    )


def iter_prompt_groups(
    session: Session, project_id: int, flt: LabelFilter, *, include_gold: bool = True, chunk: int = 2000
) -> Iterator[tuple[int, list[ItemGroup]]]:
    """Yield (prompt_id, that prompt's items with their filtered labels), in prompt order.

    Items with no label left after the filter are skipped, unless they are gold (gold answers count).
    """
    after: tuple[int, int] = (0, 0)
    pending_prompt: int | None = None
    pending: list[ItemGroup] = []
    while True:
        stmt = (
            select(Item.id, Item.prompt_id, Item.candidate_ids, Item.is_gold, Item.gold_answer)
            .where(
                Item.project_id == project_id,
                or_(Item.prompt_id > after[0], and_(Item.prompt_id == after[0], Item.id > after[1])),
            )
            .order_by(Item.prompt_id, Item.id)
            .limit(chunk)
        )
        if not include_gold:
            stmt = stmt.where(Item.is_gold.is_(False))
        rows = session.execute(stmt).all()
        if not rows:
            break
        after = (rows[-1].prompt_id, rows[-1].id)
        groups = {
            r.id: ItemGroup(r.id, r.prompt_id, list(r.candidate_ids), bool(r.is_gold), r.gold_answer) for r in rows
        }
        _attach_labels(session, groups, flt)
        _attach_adjudications(session, groups)
        for group in groups.values():
            if not group.labels and not (group.is_gold and group.gold_answer):
                continue
            if group.prompt_id != pending_prompt:
                if pending_prompt is not None:
                    yield pending_prompt, pending
                pending_prompt, pending = group.prompt_id, []
            pending.append(group)
        if len(rows) < chunk:
            break
    if pending_prompt is not None:
        yield pending_prompt, pending


def _attach_labels(session: Session, groups: dict[int, ItemGroup], flt: LabelFilter) -> None:
    stmt = (
        select(
            Label.item_id,
            Label.id,
            Label.user_id,
            Label.answer,
            Label.flags,
            Label.rationale,
            Label.rewrite,
            Label.time_spent_ms,
            Label.created_at,
            Label.updated_at,
        )
        .where(Label.item_id.in_(list(groups)))
        .order_by(Label.item_id, Label.user_id)
    )
    if flt.since is not None:
        stmt = stmt.where(Label.created_at >= flt.since)
    if flt.until is not None:
        stmt = stmt.where(Label.created_at < flt.until)
    if flt.annotator_ids is not None:
        stmt = stmt.where(Label.user_id.in_(list(flt.annotator_ids)))
    if flt.exclude_annotator_ids:
        stmt = stmt.where(Label.user_id.not_in(list(flt.exclude_annotator_ids)))
    for r in session.execute(stmt):
        groups[r.item_id].labels.append(
            LabelRow(
                r.id,
                r.user_id,
                r.answer,
                list(r.flags or []),
                r.rationale,
                r.rewrite,
                r.time_spent_ms,
                r.created_at,
                r.updated_at,
            )
        )


def _attach_adjudications(session: Session, groups: dict[int, ItemGroup]) -> None:
    stmt = select(Adjudication.item_id, Adjudication.answer).where(Adjudication.item_id.in_(list(groups)))
    for item_id, answer in session.execute(stmt):
        groups[item_id].adjudication = answer
