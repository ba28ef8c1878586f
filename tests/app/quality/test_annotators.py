"""Per-annotator records, flags and reliability weights on hand-made items."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.projects.models import TaskKind
from app.quality.annotators import (
    FlagThresholds,
    estimate_weights,
    flags_for,
    reliability_weights,
    tally_annotators,
)
from app.quality.repository import ItemGroup, LabelRow

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _item(item_id: int, answers: dict[int, str], *, ms: int = 5000, gold: str | None = None) -> ItemGroup:
    group = ItemGroup(item_id, item_id, [1, 2], gold is not None, {"choice": gold, "strength": 1} if gold else None)
    group.labels = [
        LabelRow(item_id * 10 + u, u, {"choice": c, "strength": 1}, [], None, None, ms, T0, T0)
        for u, c in answers.items()
    ]
    return group


def test_an_annotator_who_always_picks_the_first_response_is_flagged_for_position_bias() -> None:
    # 20 items; the truth alternates a/b and annotators 1 and 2 get it right; annotator 3 always says a.
    items = [_item(i, {1: "ab"[i % 2], 2: "ab"[i % 2], 3: "a"}) for i in range(20)]
    tallies = tally_annotators(TaskKind.pairwise, items, None)
    t3 = tallies[3]
    assert (t3.strict_picks, t3.first_picks) == (20, 20)
    assert t3.position_bias_p is not None and t3.position_bias_p < 1e-5  # 2 * 0.5**20
    assert "position_bias" in flags_for(t3, FlagThresholds())
    # Annotator 3 agrees with both others on the 10 "a" items and with neither on the rest: 1/2.
    assert t3.consensus_agreement == 0.5 and tallies[1].consensus_agreement == 0.75
    assert flags_for(tallies[1], FlagThresholds()) == []


def test_fast_answers_low_gold_accuracy_and_low_agreement_are_flagged() -> None:
    items = [_item(i, {1: "a", 2: "a", 3: "b"}, ms=800) for i in range(12)]
    items += [_item(100 + i, {1: "a", 3: "b"}, gold="a") for i in range(6)]
    tallies = tally_annotators(TaskKind.pairwise, items, None)
    th = FlagThresholds(fast_ms=1000)
    assert set(flags_for(tallies[3], th)) == {"too_fast", "low_agreement", "low_gold_accuracy"}
    assert tallies[3].gold_accuracy == 0.0 and tallies[1].gold_accuracy == 1.0
    # Few judgements prove nothing: with more evidence required, no rate-based flags.
    assert flags_for(tallies[3], FlagThresholds(fast_ms=1000, min_evidence=50)) == []


def test_reliability_weights_follow_gold_and_consensus_record() -> None:
    items: list[Any] = [_item(i, {1: "a", 2: "a", 3: "b"}) for i in range(10)]
    first = tally_annotators(TaskKind.pairwise, items, None)
    # One round: annotator 1 agrees with 1 of 2 others on each item -> accuracy (5 + 1) / (10 + 2) = 0.5,
    # weight log(1) = 0, as low as the dissenter's: a single round cannot tell them apart.
    assert reliability_weights(first)[1] == 0.0 and reliability_weights(first)[3] == 0.0
    # Re-weighting the others by their accuracy so far separates them.
    weights = estimate_weights(TaskKind.pairwise, lambda: items, None)
    assert weights[1] > 1.0 and weights[1] == weights[2] and weights[3] == 0.0
    # Gold answers count as evidence too.
    items += [_item(100 + i, {1: "a", 2: "a", 3: "b"}, gold="a") for i in range(10)]
    assert estimate_weights(TaskKind.pairwise, lambda: items, None)[1] > weights[1]
