"""Answers, validated per task kind against the project's rubric and the item's candidates."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.errors import InvalidInput
from app.projects.models import TaskKind


class Choice(StrEnum):
    a = "a"
    b = "b"
    tie = "tie"


class RatingAnswer(BaseModel):
    """A score for every rubric criterion, each within its scale."""

    model_config = ConfigDict(extra="forbid")
    scores: dict[str, int]


class PairwiseAnswer(BaseModel):
    """``a`` or ``b`` is the first or second response as displayed; strength 1 slight, 2 clear, 3 strong."""

    model_config = ConfigDict(extra="forbid")
    choice: Choice
    strength: int = Field(1, ge=1, le=3)


class RankingAnswer(BaseModel):
    """Best first; each inner list is one tier, so candidates in the same list are tied."""

    model_config = ConfigDict(extra="forbid")
    order: list[list[int]] = Field(min_length=1)


def validate_answer(
    kind: TaskKind, answer: dict[str, Any], *, criteria: list[dict[str, Any]], candidate_ids: list[int]
) -> dict[str, Any]:
    """Return the normalised answer, or raise InvalidInput naming the offending field."""
    try:
        if kind == TaskKind.rating:
            return _rating(RatingAnswer.model_validate(answer), criteria)
        if kind == TaskKind.pairwise:
            pair = PairwiseAnswer.model_validate(answer)
            return {
                "choice": pair.choice.value,
                "strength": 0 if pair.choice == Choice.tie else pair.strength,
            }
        return _ranking(RankingAnswer.model_validate(answer), candidate_ids)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise InvalidInput(f"answer.{loc}: {err['msg']}", field=f"answer.{loc}") from None


def _rating(ans: RatingAnswer, criteria: list[dict[str, Any]]) -> dict[str, Any]:
    by_name = {c["name"]: c for c in criteria}
    unknown = set(ans.scores) - set(by_name)
    if unknown:
        name = sorted(unknown)[0]
        raise InvalidInput(f"answer.scores.{name}: no such criterion", field=f"answer.scores.{name}")
    for name, crit in by_name.items():
        if name not in ans.scores:
            raise InvalidInput(f"answer.scores.{name}: a score is required", field=f"answer.scores.{name}")
        score = ans.scores[name]
        if not crit["min"] <= score <= crit["max"]:
            raise InvalidInput(
                f"answer.scores.{name}: {score} is outside the scale {crit['min']}..{crit['max']}",
                field=f"answer.scores.{name}",
            )
    return {"scores": {name: ans.scores[name] for name in by_name}}


def _ranking(ans: RankingAnswer, candidate_ids: list[int]) -> dict[str, Any]:
    flat = [c for tier in ans.order for c in tier]
    if any(not tier for tier in ans.order):
        raise InvalidInput("answer.order: tiers must not be empty", field="answer.order")
    if len(flat) != len(set(flat)):
        raise InvalidInput("answer.order: a candidate appears more than once", field="answer.order")
    if set(flat) != set(candidate_ids):
        missing = sorted(set(candidate_ids) - set(flat))
        extra = sorted(set(flat) - set(candidate_ids))
        raise InvalidInput(
            f"answer.order: must rank exactly this item's candidates (missing {missing}, not in item {extra})",
            field="answer.order",
        )
    return {"order": ans.order}
