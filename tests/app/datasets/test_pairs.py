"""The pair rules on hand-made items: every expected pair is worked out in the test."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from app.datasets.pairs import judged_items, prompt_pairs, rewrites
from app.datasets.spec import Aggregation, PairSource, SnapshotSpec, TiePolicy
from app.projects.models import TaskKind
from app.quality.judgments import Rubric
from app.quality.repository import ItemGroup, LabelRow

T0 = datetime(2026, 1, 1, tzinfo=UTC)
RUBRIC = Rubric.from_criteria(
    [
        {"name": "helpful", "min": 1, "max": 5, "weight": 3.0},
        {"name": "safe", "min": 0, "max": 1, "weight": 1.0},
    ]
)


def label(
    user: int, answer: dict[str, Any] | None, *, rewrite: str | None = None, flags: list[str] | None = None
) -> LabelRow:
    return LabelRow(user * 100, user, answer, flags or [], None, rewrite, 5000, T0, T0)


def item(item_id: int, candidates: list[int], *labels: LabelRow, **kw: Any) -> ItemGroup:
    group = ItemGroup(item_id, 1, candidates, kw.get("is_gold", False), kw.get("gold_answer"))
    group.labels = list(labels)
    group.adjudication = kw.get("adjudication")
    return group


def pairs(
    kind: TaskKind, items: list[ItemGroup], weights: dict[int, float] | None = None, **spec: Any
) -> set[tuple[Any, ...]]:
    s = SnapshotSpec(**spec)
    judged = judged_items(kind, items, s, RUBRIC, weights or {})
    return {(p.chosen, p.rejected, p.margin, p.tie, p.annotator_id) for p in prompt_pairs(kind, judged, s, RUBRIC)}


def pw(choice: str, strength: int = 1) -> dict[str, Any]:
    return {"choice": choice, "strength": 0 if choice == "tie" else strength}


def test_a_pairwise_choice_gives_chosen_and_rejected_with_its_strength_as_margin() -> None:
    # Display order [11, 12]: "b" means 12 is preferred, strength 3.
    assert pairs(TaskKind.pairwise, [item(1, [11, 12], label(1, pw("b", 3)))]) == {(12, 11, 3.0, False, None)}


def test_ties_are_dropped_or_kept_with_margin_zero() -> None:
    tie = [item(1, [11, 12], label(1, pw("tie")))]
    assert pairs(TaskKind.pairwise, tie) == set()
    assert pairs(TaskKind.pairwise, tie, ties=TiePolicy.keep) == {(11, 12, 0.0, True, None)}


def test_majority_of_three_annotators_and_its_margin() -> None:
    # a(3), a(1), b(2): a wins with share 2/3; mean strength of a's voters (3+1)/2 = 2 -> margin 4/3.
    group = item(1, [11, 12], label(1, pw("a", 3)), label(2, pw("a", 1)), label(3, pw("b", 2)))
    assert pairs(TaskKind.pairwise, [group]) == {(11, 12, round(4 / 3, 6), False, None)}


def test_an_even_split_is_a_tie_and_reliability_weights_can_settle_it() -> None:
    group = item(1, [11, 12], label(1, pw("a")), label(2, pw("b")))
    assert pairs(TaskKind.pairwise, [group]) == set()
    # Annotator 2 is trusted more: b wins with share 2/3 and strength 1 -> margin 2/3.
    weighted = pairs(TaskKind.pairwise, [group], {1: 1.0, 2: 2.0}, aggregation=Aggregation.weighted)
    assert weighted == {(12, 11, round(2 / 3, 6), False, None)}


def test_no_aggregation_gives_one_pair_per_annotator() -> None:
    group = item(1, [11, 12], label(1, pw("a", 2)), label(2, pw("b", 1)))
    assert pairs(TaskKind.pairwise, [group], aggregation=Aggregation.none) == {
        (11, 12, 2.0, False, 1),
        (12, 11, 1.0, False, 2),
    }


def test_the_adjudicated_answer_wins_over_the_annotators() -> None:
    group = item(1, [11, 12], label(1, pw("a")), label(2, pw("a")), adjudication=pw("b", 2))
    assert pairs(TaskKind.pairwise, [group]) == {(12, 11, 2.0, False, None)}


def test_low_agreement_items_are_left_out_on_request() -> None:
    # 2 of 3 agree: agreeing pairs 1 of 3 -> agreement 1/3.
    group = item(1, [11, 12], label(1, pw("a")), label(2, pw("a")), label(3, pw("b")))
    assert pairs(TaskKind.pairwise, [group], min_agreement=0.3) == {(11, 12, round(2 / 3, 6), False, None)}
    assert pairs(TaskKind.pairwise, [group], min_agreement=0.5) == set()


def test_min_annotators_and_excluded_flags_leave_items_out() -> None:
    single = item(1, [11, 12], label(1, pw("a")))
    assert pairs(TaskKind.pairwise, [single], min_annotators=2) == set()
    flagged = item(2, [11, 12], label(1, pw("a")), label(2, None, flags=["unsafe"]))
    assert pairs(TaskKind.pairwise, [flagged]) == set()
    assert pairs(TaskKind.pairwise, [flagged], exclude_flags=[]) == {(11, 12, 1.0, False, None)}


def test_gold_items_count_only_when_asked_and_then_with_their_known_answer() -> None:
    gold = item(1, [11, 12], label(1, pw("a")), is_gold=True, gold_answer=pw("b", 3))
    assert pairs(TaskKind.pairwise, [gold]) == set()
    assert pairs(TaskKind.pairwise, [gold], include_gold=True) == {(12, 11, 3.0, False, None)}


def test_a_ranking_gives_every_ordered_pair_and_ties_within_a_tier() -> None:
    # [[23], [21, 24], [22]]: ranks 23:1, 21:2.5, 24:2.5, 22:4 -> 4*3/2 = 6 pairs, one of them a tie.
    group = item(1, [21, 22, 23, 24], label(1, {"order": [[23], [21, 24], [22]]}))
    expected = {
        (23, 21, 1.5, False, None),
        (23, 24, 1.5, False, None),
        (23, 22, 3.0, False, None),
        (21, 22, 1.5, False, None),
        (24, 22, 1.5, False, None),
    }
    assert pairs(TaskKind.ranking, [group]) == expected
    assert pairs(TaskKind.ranking, [group], ties=TiePolicy.keep) == expected | {(21, 24, 0.0, True, None)}


def test_rankings_of_several_annotators_are_combined_by_mean_rank() -> None:
    # Mean ranks: 21: (1+2)/2 = 1.5, 22: (2+1)/2 = 1.5, 23: 3 -> 21~22 tie; both beat 23 by 1.5.
    group = item(1, [21, 22, 23], label(1, {"order": [[21], [22], [23]]}), label(2, {"order": [[22], [21], [23]]}))
    assert pairs(TaskKind.ranking, [group]) == {(21, 23, 1.5, False, None), (22, 23, 1.5, False, None)}


def test_ratings_pair_candidates_of_a_prompt_by_score_difference() -> None:
    # Overall (0..1) = (3 * (helpful-1)/4 + safe) / 4.
    # 31: helpful 5, safe 1 -> 1.0; 32: helpful 4, safe 1 -> (2.25+1)/4 = 0.8125; 33: helpful 1, safe 0 -> 0.
    items = [
        item(1, [31], label(1, {"scores": {"helpful": 5, "safe": 1}})),
        item(2, [32], label(1, {"scores": {"helpful": 4, "safe": 1}})),
        item(3, [33], label(1, {"scores": {"helpful": 1, "safe": 0}})),
    ]
    # 31 vs 32 differ by 0.1875 < 0.25: no pair.
    assert pairs(TaskKind.rating, items) == {(31, 33, 1.0, False, None), (32, 33, 0.8125, False, None)}
    # On one criterion: helpful (1..5) scaled: 1.0, 0.75, 0.0 -> 31>32 by 0.25 now counts.
    assert pairs(TaskKind.rating, items, rating_criterion="helpful") == {
        (31, 32, 0.25, False, None),
        (31, 33, 1.0, False, None),
        (32, 33, 0.75, False, None),
    }


def test_ratings_are_averaged_across_annotators_before_pairing() -> None:
    # 41: mean helpful (5+3)/2 = 4 -> (3 * 3/4 + 1) / 4 = 0.8125; 42: helpful 2 -> (3 * 1/4 + 1) / 4 = 0.4375.
    # Difference 0.375.
    items = [
        item(1, [41], label(1, {"scores": {"helpful": 5, "safe": 1}}), label(2, {"scores": {"helpful": 3, "safe": 1}})),
        item(2, [42], label(1, {"scores": {"helpful": 2, "safe": 1}})),
    ]
    assert pairs(TaskKind.rating, items) == {(41, 42, 0.375, False, None)}


def test_rewrites_give_sft_rows_and_a_rewrite_over_original_pair() -> None:
    group = item(1, [11, 12], label(1, pw("b"), rewrite="Better answer."), label(2, pw("a")))
    spec = SnapshotSpec()
    sft, extra = rewrites(TaskKind.pairwise, [group], spec)
    assert [(s.completion, s.original_candidate_id, s.annotator_id) for s in sft] == [("Better answer.", 12, 1)]
    assert [(p.chosen, p.rewrite, p.rejected, p.source) for p in extra] == [
        (None, "Better answer.", 12, PairSource.rewrite)
    ]
    _, none = rewrites(TaskKind.pairwise, [group], SnapshotSpec(sources=[PairSource.pairwise]))
    assert none == []


@pytest.mark.parametrize("kind", [TaskKind.pairwise, TaskKind.ranking])
def test_a_source_left_out_of_the_spec_makes_no_pairs(kind: TaskKind) -> None:
    answer = pw("a") if kind == TaskKind.pairwise else {"order": [[1], [2], [3]]}
    candidates = [1, 2] if kind == TaskKind.pairwise else [1, 2, 3]
    assert pairs(kind, [item(1, candidates, label(1, answer))], sources=[PairSource.rewrite]) == set()
