"""Per-annotator quality: gold accuracy, agreement with the others, position bias, speed; and the
reliability weights the ``weighted`` aggregation uses.

Agreement with consensus is leave-one-out: each judgement is compared with the *other* annotators of
the item (for pairwise choices, the share of them who chose the same), so nobody agrees with themselves.

Reliability is a one-coin Dawid-Skene estimate: accuracy = (gold score + consensus score + 1) /
(gold items + compared items + 2) (a Beta(1, 1) prior, so a newcomer starts at 0.5), re-estimated a few
rounds with the others weighted by their accuracy so far (one persistent dissenter no longer drags the
careful annotators' scores to a half), and the weight is its log-odds, the optimal vote weight for
independent voters; no better than chance weighs nothing.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from app.projects.models import TaskKind
from app.quality.judgments import Rubric, Value, consensus, first_position_pick, similarity, value_of
from app.quality.metrics import binomial_two_sided_p
from app.quality.repository import ItemGroup

MAX_ACCURACY = 0.99
"""Caps a weight: a perfect record on a few items must not outvote everyone else."""


@dataclass(slots=True)
class AnnotatorTally:
    user_id: int
    labels: int = 0
    gold_n: int = 0
    gold_score: float = 0.0
    compared_n: int = 0
    compared_score: float = 0.0
    strict_picks: int = 0
    first_picks: int = 0
    chance: float = 0.5
    times_ms: list[int] = field(default_factory=list)

    @property
    def gold_accuracy(self) -> float | None:
        return self.gold_score / self.gold_n if self.gold_n else None

    @property
    def consensus_agreement(self) -> float | None:
        return self.compared_score / self.compared_n if self.compared_n else None

    @property
    def accuracy(self) -> float:
        return (self.gold_score + self.compared_score + 1.0) / (self.gold_n + self.compared_n + 2.0)

    @property
    def weight(self) -> float:
        acc = min(self.accuracy, MAX_ACCURACY)
        return max(0.0, math.log(acc / (1.0 - acc)))

    @property
    def first_pick_share(self) -> float | None:
        return self.first_picks / self.strict_picks if self.strict_picks else None

    @property
    def position_bias_p(self) -> float | None:
        """Two-sided binomial p-value of picking the first-shown response this often by chance."""
        if not self.strict_picks:
            return None
        return binomial_two_sided_p(self.first_picks, self.strict_picks, self.chance)

    @property
    def median_time_ms(self) -> float | None:
        return float(statistics.median(self.times_ms)) if self.times_ms else None

    def fast_share(self, fast_ms: int) -> float | None:
        if not self.times_ms:
            return None
        return sum(1 for t in self.times_ms if t < fast_ms) / len(self.times_ms)


def tally_annotators(
    kind: TaskKind,
    items: Iterable[ItemGroup],
    rubric: Rubric | None,
    weights: Mapping[int, float] | None = None,
) -> dict[int, AnnotatorTally]:
    """One pass over items: every annotator's gold, consensus, position and timing record."""
    tallies: dict[int, AnnotatorTally] = {}
    for item in items:
        answered = [lab for lab in item.answered if lab.answer is not None]
        values = [value_of(kind, lab.answer) for lab in answered if lab.answer is not None]
        reference = value_of(kind, item.gold_answer) if item.is_gold and item.gold_answer else None
        for lab in item.labels:
            t = tallies.get(lab.user_id)
            if t is None:
                t = tallies[lab.user_id] = AnnotatorTally(lab.user_id)
            t.labels += 1
            if lab.time_spent_ms is not None:
                t.times_ms.append(lab.time_spent_ms)
        for i, (lab, value) in enumerate(zip(answered, values, strict=True)):
            t = tallies[lab.user_id]
            if reference is not None:
                t.gold_n += 1
                t.gold_score += similarity(kind, value, reference, rubric)
                continue
            picked_first = first_position_pick(kind, value, item.candidate_ids)
            if picked_first is not None:
                t.strict_picks += 1
                t.first_picks += int(picked_first)
                t.chance = 1.0 / len(item.candidate_ids)
            others = values[:i] + values[i + 1 :]
            if not others:
                continue
            other_labs = answered[:i] + answered[i + 1 :]
            w = [weights.get(o.user_id, 1.0) if weights else 1.0 for o in other_labs]
            t.compared_n += 1
            t.compared_score += _agreement_with_others(kind, value, others, w, rubric)
    return tallies


def _agreement_with_others(
    kind: TaskKind, value: Value, others: Sequence[Value], weights: Sequence[float], rubric: Rubric | None
) -> float:
    """Pairwise: the (weighted) share of the other annotators who chose the same; a majority vote of
    the others would call two others who split a tie and score everyone 0. Ranking and rating: the
    closeness to the others' mean."""
    if kind == TaskKind.pairwise:
        total = sum(weights) or float(len(others))
        w = weights if sum(weights) else [1.0] * len(others)
        return sum(wi * similarity(kind, value, o, rubric) for wi, o in zip(w, others, strict=True)) / total
    return similarity(kind, value, consensus(kind, others, weights, rubric).value, rubric)


def reliability_weights(tallies: Mapping[int, AnnotatorTally]) -> dict[int, float]:
    return {uid: t.weight for uid, t in tallies.items()}


RELIABILITY_ROUNDS = 3


def estimate_weights(
    kind: TaskKind,
    items: Callable[[], Iterable[ItemGroup]],
    rubric: Rubric | None,
    first: Mapping[int, AnnotatorTally] | None = None,
) -> dict[int, float]:
    """Reliability weights after a few rounds of re-weighting (``items`` is walked once per round;
    ``first`` is the unweighted round when the caller already has it)."""
    tallies = first if first is not None else tally_annotators(kind, items(), rubric)
    for _ in range(RELIABILITY_ROUNDS - 1):
        soft = {uid: t.accuracy for uid, t in tallies.items()}
        tallies = tally_annotators(kind, items(), rubric, soft)
    return reliability_weights(tallies)


@dataclass(frozen=True, slots=True)
class FlagThresholds:
    fast_ms: int = 3000
    max_fast_share: float = 0.25
    min_gold_accuracy: float = 0.7
    min_consensus_agreement: float = 0.6
    position_bias_p: float = 0.01
    min_evidence: int = 10
    """Judgements needed before a rate-based flag is raised (few labels prove nothing)."""


def flags_for(t: AnnotatorTally, th: FlagThresholds) -> list[str]:
    """Why this annotator deserves a look: position_bias, too_fast, low_agreement, low_gold_accuracy."""
    flags: list[str] = []
    p = t.position_bias_p
    share = t.first_pick_share
    biased = p is not None and share is not None and share > t.chance and p < th.position_bias_p
    if t.strict_picks >= th.min_evidence and biased:
        flags.append("position_bias")
    fast = t.fast_share(th.fast_ms)
    if len(t.times_ms) >= th.min_evidence and fast is not None and fast > th.max_fast_share:
        flags.append("too_fast")
    agree = t.consensus_agreement
    if t.compared_n >= th.min_evidence and agree is not None and agree < th.min_consensus_agreement:
        flags.append("low_agreement")
    gold = t.gold_accuracy
    if t.gold_n >= max(3, th.min_evidence // 2) and gold is not None and gold < th.min_gold_accuracy:
        flags.append("low_gold_accuracy")
    return flags
