"""The rules that turn one prompt's judged items into preference pairs and SFT rows.

- pairwise: (chosen, rejected) with the strength as margin; a tie is a tie row or nothing (policy);
- ranking: every ordered pair of the K candidates (K(K-1)/2), margin = the difference in rank;
  candidates in one tier are ties;
- rating: candidates of the same prompt are paired when their scores (0..1 scale, one criterion or the
  weighted overall) differ by at least the threshold, margin = the difference;
- rewrite: an SFT row (prompt, rewrite) and a (rewrite ≻ the response it rewrote) pair.

Which judgement an item contributes: the adjudicated answer when a reviewer decided, the known answer
for a gold item, else the consensus of its annotators (majority / weighted) or, with aggregation
``none``, each annotator's own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

from app.datasets.spec import Aggregation, PairSource, SnapshotSpec, TiePolicy
from app.projects.models import TaskKind
from app.quality.judgments import Rubric, Value, consensus, value_of
from app.quality.repository import ItemGroup, LabelRow


@dataclass(frozen=True, slots=True)
class PairDraft:
    item_id: int
    chosen: int | None
    """A candidate id; None when the chosen side is an annotator's rewrite (``rewrite`` holds it)."""
    rejected: int
    margin: float
    tie: bool
    source: PairSource
    annotator_id: int | None
    n_annotators: int
    agreement: float | None
    adjudicated: bool
    rewrite: str | None = None


@dataclass(frozen=True, slots=True)
class SftDraft:
    item_id: int
    label_id: int
    annotator_id: int
    completion: str
    original_candidate_id: int | None


@dataclass(frozen=True, slots=True)
class Judged:
    """What one item contributes: one value (consensus or an annotator's own) and where it came from."""

    item: ItemGroup
    value: Value
    annotator_id: int | None
    n_annotators: int
    agreement: float | None
    adjudicated: bool


def judged_items(
    kind: TaskKind,
    items: Sequence[ItemGroup],
    spec: SnapshotSpec,
    rubric: Rubric | None,
    weights: Mapping[int, float],
) -> list[Judged]:
    """Apply the spec's item rules (flags, gold, adjudication, min annotators, agreement) and aggregate."""
    out: list[Judged] = []
    excluded_flags = set(spec.exclude_flags)
    for item in items:
        if any(excluded_flags.intersection(lab.flags) for lab in item.labels):
            continue
        answered = item.answered
        if item.is_gold:
            if spec.include_gold and item.gold_answer is not None:
                out.append(Judged(item, value_of(kind, item.gold_answer), None, len(answered), None, True))
            continue
        if item.adjudication is not None:
            out.append(Judged(item, value_of(kind, item.adjudication), None, len(answered), None, True))
            continue
        if not answered or len(answered) < spec.min_annotators:
            continue
        values = [value_of(kind, lab.answer) for lab in answered if lab.answer is not None]
        if spec.aggregation == Aggregation.none:
            agreement = consensus(kind, values, [1.0] * len(values), rubric).agreement
            if spec.min_agreement is not None and agreement is not None and agreement < spec.min_agreement:
                continue
            out.extend(
                Judged(item, v, lab.user_id, 1, agreement, False) for lab, v in zip(answered, values, strict=True)
            )
            continue
        w = [weights.get(lab.user_id, 1.0) if spec.aggregation == Aggregation.weighted else 1.0 for lab in answered]
        agg = consensus(kind, values, w, rubric)
        if spec.min_agreement is not None and agg.agreement is not None and agg.agreement < spec.min_agreement:
            continue
        out.append(Judged(item, agg.value, None, len(values), agg.agreement, False))
    return out


def prompt_pairs(
    kind: TaskKind, judged: Sequence[Judged], spec: SnapshotSpec, rubric: Rubric | None
) -> list[PairDraft]:
    """All comparison pairs (pairwise, ranking, rating) one prompt's judged items give."""
    keep_ties = spec.ties == TiePolicy.keep
    out: list[PairDraft] = []
    if kind == TaskKind.rating:
        if PairSource.rating in spec.sources:
            assert rubric is not None
            out.extend(_rating_pairs(judged, spec, rubric))
        return out
    source = PairSource.pairwise if kind == TaskKind.pairwise else PairSource.ranking
    if source not in spec.sources:
        return out
    for j in judged:
        for chosen, rejected, margin in _ordered(kind, j.value, j.item.candidate_ids):
            if margin == 0 and not keep_ties:
                continue
            out.append(_draft(j, chosen, rejected, margin, source))
    return out


def _ordered(kind: TaskKind, value: Value, candidate_ids: Sequence[int]) -> list[tuple[int, int, float]]:
    """(chosen, rejected, margin) for each pair of the item's candidates; margin 0 is a tie, kept in display order."""
    if kind == TaskKind.pairwise:
        choice, strength = value
        a, b = candidate_ids[0], candidate_ids[1]
        if choice == "tie":
            return [(a, b, 0.0)]
        return [(a, b, float(strength))] if choice == "a" else [(b, a, float(strength))]
    pairs = []
    for x, y in combinations(candidate_ids, 2):
        diff = float(value[y]) - float(value[x])  # ranks: lower is better
        pairs.append((x, y, diff) if diff >= 0 else (y, x, -diff))
    return pairs


def _draft(j: Judged, chosen: int | None, rejected: int, margin: float, source: PairSource) -> PairDraft:
    return PairDraft(
        item_id=j.item.item_id,
        chosen=chosen,
        rejected=rejected,
        margin=round(margin, 6),
        tie=margin == 0,
        source=source,
        annotator_id=j.annotator_id,
        n_annotators=j.n_annotators,
        agreement=j.agreement,
        adjudicated=j.adjudicated,
    )


def _rating_pairs(judged: Sequence[Judged], spec: SnapshotSpec, rubric: Rubric) -> list[PairDraft]:
    """Pair the prompt's rated candidates, within one annotator's scores when not aggregated."""
    by_rater: dict[int | None, list[Judged]] = defaultdict(list)
    for j in judged:
        by_rater[j.annotator_id].append(j)
    out: list[PairDraft] = []
    for group in by_rater.values():
        scored = [(j, rubric.overall(j.value, spec.rating_criterion)) for j in group]
        for (x, sx), (y, sy) in combinations(scored, 2):
            diff = sx - sy
            cx, cy = x.item.candidate_ids[0], y.item.candidate_ids[0]
            if cx == cy:
                continue
            if abs(diff) < spec.rating_min_difference - 1e-9:
                if diff == 0 and spec.ties == TiePolicy.keep:
                    out.append(_draft(x, cx, cy, 0.0, PairSource.rating))
                continue
            winner, loser = (x, y) if diff > 0 else (y, x)
            out.append(
                PairDraft(
                    item_id=winner.item.item_id,
                    chosen=winner.item.candidate_ids[0],
                    rejected=loser.item.candidate_ids[0],
                    margin=round(abs(diff), 6),
                    tie=False,
                    source=PairSource.rating,
                    annotator_id=winner.annotator_id,
                    n_annotators=min(x.n_annotators, y.n_annotators),
                    agreement=_min_known(x.agreement, y.agreement),
                    adjudicated=x.adjudicated and y.adjudicated,
                )
            )
    return out


def _min_known(a: float | None, b: float | None) -> float | None:
    known = [v for v in (a, b) if v is not None]
    return min(known) if known else None


def rewrites(kind: TaskKind, items: Sequence[ItemGroup], spec: SnapshotSpec) -> tuple[list[SftDraft], list[PairDraft]]:
    """SFT rows from every rewrite, and (rewrite ≻ what it rewrote) pairs when the spec asks for them."""
    excluded_flags = set(spec.exclude_flags)
    sft: list[SftDraft] = []
    pairs: list[PairDraft] = []
    for item in items:
        if item.is_gold or any(excluded_flags.intersection(lab.flags) for lab in item.labels):
            continue
        for lab in item.labels:
            if not lab.rewrite or not lab.rewrite.strip():
                continue
            original = _rewritten(kind, item, lab)
            sft.append(SftDraft(item.item_id, lab.label_id, lab.user_id, lab.rewrite, original))
            if PairSource.rewrite in spec.sources and original is not None:
                pairs.append(
                    PairDraft(
                        item_id=item.item_id,
                        chosen=None,
                        rejected=original,
                        margin=spec.rewrite_margin,
                        tie=False,
                        source=PairSource.rewrite,
                        annotator_id=lab.user_id,
                        n_annotators=1,
                        agreement=None,
                        adjudicated=False,
                        rewrite=lab.rewrite,
                    )
                )
    return sft, pairs


def _rewritten(kind: TaskKind, item: ItemGroup, lab: LabelRow) -> int | None:
    """The response a rewrite improves on: the rated one, or the one this annotator preferred."""
    ids = item.candidate_ids
    if kind == TaskKind.rating or lab.answer is None:
        return ids[0] if kind == TaskKind.rating else None
    if kind == TaskKind.pairwise:
        return ids[1] if lab.answer["choice"] == "b" else ids[0]
    return int(lab.answer["order"][0][0])
