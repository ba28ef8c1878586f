"""One item's judgements: what each annotator said, their consensus, and how much they agree.

Every task kind is reduced to one comparable value per judgement, so consensus, agreement, gold
accuracy and annotator-vs-consensus scores share one code path:

- pairwise: ``(choice, strength)`` with choice ``a`` / ``b`` / ``tie`` in the item's stored display order
  (every annotator saw the same order, so letters compare directly);
- ranking: the average rank of each candidate (1 = best; tied candidates share the mean of their places);
- rating: the score of each rubric criterion.

Consensus is a weighted vote (pairwise), weighted mean rank (ranking) or weighted mean score (rating);
equal weights give plain majority / mean, reliability weights give the weighted variant.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from app.projects.models import TaskKind
from app.quality.metrics import item_agreement, kendall_tau_b, kendall_w, tier_ranks

Value = Any
"""('a'|'b'|'tie', strength) for pairwise; {candidate_id: rank} for ranking; {criterion: score} for rating."""


@dataclass(frozen=True, slots=True)
class Rubric:
    """What a rating means: each criterion's scale and weight in the overall score."""

    scales: Mapping[str, tuple[int, int]]
    weights: Mapping[str, float]

    @classmethod
    def from_criteria(cls, criteria: Sequence[Mapping[str, Any]]) -> Rubric:
        return cls(
            scales={c["name"]: (int(c["min"]), int(c["max"])) for c in criteria},
            weights={c["name"]: float(c.get("weight", 1.0)) for c in criteria},
        )

    def overall(self, scores: Mapping[str, float], criterion: str | None = None) -> float:
        """One criterion's score, or the weighted mean of all criteria, on a 0..1 scale (0 = the scale's low end).

        One scale for every rubric, so a threshold like 0.25 means "one point on a 1-5 scale" everywhere.
        """
        names = [criterion] if criterion is not None else list(self.scales)
        weights = {n: self.weights[n] for n in names}
        if sum(weights.values()) <= 0:
            weights = dict.fromkeys(names, 1.0)
        acc = 0.0
        for name in names:
            lo, hi = self.scales[name]
            acc += weights[name] * (float(scores[name]) - lo) / (hi - lo)
        return acc / sum(weights.values())


def value_of(kind: TaskKind, answer: Mapping[str, Any]) -> Value:
    """The comparable value of a validated answer (see the module docstring)."""
    if kind == TaskKind.pairwise:
        return (answer["choice"], int(answer.get("strength", 0)))
    if kind == TaskKind.ranking:
        return tier_ranks(answer["order"])
    return {k: float(v) for k, v in answer["scores"].items()}


@dataclass(frozen=True, slots=True)
class Consensus:
    value: Value
    """Same shape as a judgement's value; for pairwise the strength is the consensus margin (float)."""
    agreement: float | None
    """0..1 across this item's annotators; None with fewer than two."""
    n: int


def consensus(
    kind: TaskKind, values: Sequence[Value], weights: Sequence[float], rubric: Rubric | None = None
) -> Consensus:
    """Combine annotators' values with weights (all equal: majority / mean)."""
    if not values:
        raise ValueError("consensus of no judgements")
    w = list(weights) if sum(weights) > 0 else [1.0] * len(values)
    agreement = agreement_of(kind, values, rubric)
    if kind == TaskKind.pairwise:
        return Consensus(_vote(values, w), agreement, len(values))
    keys = values[0].keys()
    total = sum(w)
    mean = {k: sum(wi * v[k] for wi, v in zip(w, values, strict=True)) / total for k in keys}
    return Consensus(mean, agreement, len(values))


def _vote(values: Sequence[Value], weights: Sequence[float]) -> tuple[str, float]:
    """The weighted majority choice; margin = its vote share x the mean strength its voters gave.

    Equal top weights for two choices make a tie: the annotators did not settle it.
    """
    tally: dict[str, float] = {"a": 0.0, "b": 0.0, "tie": 0.0}
    strength: dict[str, float] = {"a": 0.0, "b": 0.0, "tie": 0.0}
    for (choice, s), wi in zip(values, weights, strict=True):
        tally[choice] += wi
        strength[choice] += wi * s
    ranked = sorted(tally.items(), key=lambda kv: -kv[1])
    if ranked[0][1] == ranked[1][1]:
        return ("tie", 0.0)
    winner, weight = ranked[0]
    if winner == "tie":
        return ("tie", 0.0)
    share = weight / sum(tally.values())
    return (winner, share * strength[winner] / weight)


def agreement_of(kind: TaskKind, values: Sequence[Value], rubric: Rubric | None = None) -> float | None:
    """How much an item's annotators agree, 0..1 (None with fewer than two).

    pairwise: share of annotator pairs with the same choice; ranking: Kendall's W over the candidates;
    rating: mean over annotator pairs of 1 - |overall score difference| (overall scaled to 0..1).
    """
    if len(values) < 2:
        return None
    if kind == TaskKind.pairwise:
        return item_agreement([choice for choice, _ in values])
    if kind == TaskKind.ranking:
        keys = sorted(values[0])
        return kendall_w([[v[k] for k in keys] for v in values])
    assert rubric is not None
    sims = [similarity(kind, a, b, rubric) for a, b in combinations(values, 2)]
    return sum(sims) / len(sims)


def similarity(kind: TaskKind, value: Value, reference: Value, rubric: Rubric | None = None) -> float:
    """How close one judgement is to a reference (consensus or gold answer), 0..1.

    pairwise: 1 when the choice matches; ranking: Kendall's tau-b mapped to 0..1 (0.5 when undefined);
    rating: 1 - |overall score difference| on the 0..1 overall scale.
    """
    if kind == TaskKind.pairwise:
        return 1.0 if value[0] == reference[0] else 0.0
    if kind == TaskKind.ranking:
        keys = sorted(reference)
        tau = kendall_tau_b([value[k] for k in keys], [reference[k] for k in keys])
        return 0.5 if tau is None else (tau + 1.0) / 2.0
    assert rubric is not None
    return 1.0 - abs(rubric.overall(value) - rubric.overall(reference))


def first_position_pick(kind: TaskKind, value: Value, candidate_ids: Sequence[int]) -> bool | None:
    """Whether this judgement preferred the first-displayed response (None: no strict preference).

    Used for position bias: chance is 1/2 for pairs and 1/K for a K-ranking's top place.
    """
    if kind == TaskKind.pairwise:
        choice = value[0]
        return None if choice == "tie" else choice == "a"
    if kind == TaskKind.ranking:
        best = min(value.values())
        top = [c for c, r in value.items() if r == best]
        return None if len(top) > 1 else top[0] == candidate_ids[0]
    return None
