"""Quality reports over a project's labels: agreement (per project, per item, over time) and annotators."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from itertools import combinations
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.projects.models import Project, ProjectMember, TaskKind
from app.quality import metrics
from app.quality.annotators import AnnotatorTally, FlagThresholds, estimate_weights, flags_for, tally_annotators
from app.quality.cache import cached
from app.quality.judgments import Rubric, agreement_of, value_of
from app.quality.repository import ItemGroup, LabelFilter, iter_prompt_groups
from app.quality.schemas import AgreementMetric, AnnotatorQuality, ItemAgreement, QualityReport, TimelinePoint

MIN_SHARED_FOR_COHEN = 5
"""Annotator pairs need this many items in common before their Cohen's kappa is averaged in."""


def rubric_of(project: Project) -> Rubric | None:
    return Rubric.from_criteria(project.criteria) if project.task_kind == TaskKind.rating else None


def iter_items(session: Session, project_id: int, flt: LabelFilter | None = None) -> Iterator[ItemGroup]:
    for _, items in iter_prompt_groups(session, project_id, flt or LabelFilter()):
        yield from items


def item_agreement(kind: TaskKind, item: ItemGroup, rubric: Rubric | None) -> float | None:
    values = [value_of(kind, lab.answer) for lab in item.answered if lab.answer is not None]
    return agreement_of(kind, values, rubric)


def project_report(session: Session, project: Project) -> QualityReport:
    """Agreement coefficients for the task kind, the per-item distribution and the daily timeline."""
    return cached(session, project.id, "report", None, lambda: _project_report(session, project))


def _project_report(session: Session, project: Project) -> QualityReport:
    kind = TaskKind(project.task_kind)
    rubric = rubric_of(project)
    labels = items_labelled = gold = adjudicated = 0
    agreements: list[float] = []
    units: list[dict[int, Any]] = []
    by_day: dict[date, list[float]] = defaultdict(list)
    labels_by_day: dict[date, int] = defaultdict(int)
    for item in iter_items(session, project.id):
        labels += len(item.labels)
        for lab in item.labels:
            labels_by_day[lab.created_at.date()] += 1
        if item.is_gold:
            gold += 1
            continue
        items_labelled += 1 if item.labels else 0
        adjudicated += item.adjudication is not None
        answered = {lab.user_id: value_of(kind, lab.answer) for lab in item.answered if lab.answer is not None}
        if len(answered) < 2:
            continue
        units.append(answered)
        agreement = agreement_of(kind, list(answered.values()), rubric)
        if agreement is not None:
            agreements.append(agreement)
            by_day[max(lab.created_at for lab in item.labels).date()].append(agreement)
    histogram = [0] * 10
    for a in agreements:
        histogram[min(9, int(a * 10))] += 1
    timeline = [
        TimelinePoint(
            day=day,
            labels=labels_by_day[day],
            items=len(by_day.get(day, [])),
            mean_agreement=_mean(by_day.get(day, [])),
        )
        for day in sorted(labels_by_day)
    ]
    return QualityReport(
        task_kind=kind.value,
        labels=labels,
        items_labelled=items_labelled,
        items_with_overlap=len(units),
        gold_items=gold,
        adjudicated_items=adjudicated,
        mean_item_agreement=_mean(agreements),
        agreement_histogram=histogram,
        metrics=agreement_metrics(kind, units, rubric),
        timeline=timeline,
    )


def agreement_metrics(kind: TaskKind, units: list[dict[int, Any]], rubric: Rubric | None) -> list[AgreementMetric]:
    """The coefficients that fit the task kind, over items with two or more answers."""
    n = len(units)
    if kind == TaskKind.pairwise:
        choices = [[v[0] for v in unit.values()] for unit in units]
        return [
            AgreementMetric(name="percent_agreement", value=metrics.percent_agreement(choices), n=n),
            AgreementMetric(name="fleiss_kappa", value=metrics.fleiss_kappa(choices), n=n),
            _mean_cohen(units),
            AgreementMetric(
                name="krippendorff_alpha",
                value=metrics.krippendorff_alpha([[_CHOICE_CODE[c] for c in unit] for unit in choices], "nominal"),
                n=n,
            ),
        ]
    if kind == TaskKind.ranking:
        ws = [metrics.kendall_w([[v[k] for k in sorted(v)] for v in unit.values()]) for unit in units]
        taus = [
            metrics.kendall_tau_b([a[k] for k in sorted(a)], [b[k] for k in sorted(a)])
            for unit in units
            for a, b in combinations(unit.values(), 2)
        ]
        return [
            AgreementMetric(name="kendall_w", value=_mean([w for w in ws if w is not None]), n=n),
            AgreementMetric(name="kendall_tau_b", value=_mean([t for t in taus if t is not None]), n=len(taus)),
        ]
    assert rubric is not None
    out = []
    for name, (lo, hi) in rubric.scales.items():
        per_item = [[v[name] for v in unit.values()] for unit in units]
        alpha = metrics.krippendorff_alpha(per_item, "ordinal", value_domain=list(range(lo, hi + 1)))
        out.append(AgreementMetric(name="krippendorff_alpha", value=alpha, n=n, criterion=name))
        out.append(
            AgreementMetric(name="percent_agreement", value=metrics.percent_agreement(per_item), n=n, criterion=name)
        )
    overall = [[rubric.overall(v) for v in unit.values()] for unit in units]
    out.append(
        AgreementMetric(name="krippendorff_alpha_interval", value=metrics.krippendorff_alpha(overall, "interval"), n=n)
    )
    return out


_CHOICE_CODE = {"a": 0.0, "b": 1.0, "tie": 2.0}


def _mean_cohen(units: list[dict[int, Any]]) -> AgreementMetric:
    """Cohen's kappa for every pair of annotators with enough shared items, averaged."""
    shared: dict[tuple[int, int], tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    for unit in units:
        for (ua, va), (ub, vb) in combinations(sorted(unit.items()), 2):
            xs, ys = shared[(ua, ub)]
            xs.append(va[0])
            ys.append(vb[0])
    kappas = [
        k
        for xs, ys in shared.values()
        if len(xs) >= MIN_SHARED_FOR_COHEN and (k := metrics.cohen_kappa(xs, ys)) is not None
    ]
    return AgreementMetric(name="cohen_kappa_mean", value=_mean(kappas), n=len(kappas))


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def annotator_table(session: Session, project: Project, th: FlagThresholds) -> list[AnnotatorQuality]:
    """Every annotator who labelled in the project, with their record and flags (worst first)."""
    tallies, weights = cached(session, project.id, "annotators", None, lambda: _annotator_records(session, project))
    people = {
        r.id: r
        for r in session.execute(
            select(User.id, User.username, User.display_name, ProjectMember.role, ProjectMember.paused)
            .outerjoin(ProjectMember, (ProjectMember.user_id == User.id) & (ProjectMember.project_id == project.id))
            .where(User.id.in_(list(tallies)))
        )
    }
    rows = []
    for uid, t in tallies.items():
        person = people[uid]
        rows.append(
            AnnotatorQuality(
                user_id=uid,
                username=person.username,
                display_name=person.display_name,
                role=person.role,
                paused=bool(person.paused),
                labels=t.labels,
                gold_items=t.gold_n,
                gold_accuracy=t.gold_accuracy,
                compared_items=t.compared_n,
                consensus_agreement=t.consensus_agreement,
                first_pick_share=t.first_pick_share,
                first_pick_chance=t.chance,
                position_bias_p=t.position_bias_p,
                median_time_ms=t.median_time_ms,
                fast_share=t.fast_share(th.fast_ms),
                reliability_weight=round(weights[uid], 6),
                flags=flags_for(t, th),
            )
        )
    return sorted(rows, key=lambda r: (-len(r.flags), r.user_id))


def _annotator_records(session: Session, project: Project) -> tuple[dict[int, AnnotatorTally], dict[int, float]]:
    kind = TaskKind(project.task_kind)
    rubric = rubric_of(project)
    tallies = tally_annotators(kind, iter_items(session, project.id), rubric)
    return tallies, estimate_weights(kind, lambda: iter_items(session, project.id), rubric, first=tallies)


def disagreements(
    session: Session, project: Project, *, max_agreement: float, after: int, limit: int, include_adjudicated: bool
) -> tuple[list[ItemAgreement], int | None]:
    """Items with two or more answers agreeing less than ``max_agreement``, by item id."""
    kind = TaskKind(project.task_kind)
    rubric = rubric_of(project)
    found: list[ItemAgreement] = []
    for item in iter_items(session, project.id):
        if item.is_gold or item.item_id <= after or (item.adjudication is not None and not include_adjudicated):
            continue
        agreement = item_agreement(kind, item, rubric)
        if agreement is None or agreement >= max_agreement:
            continue
        found.append(
            ItemAgreement(
                item_id=item.item_id,
                prompt_id=item.prompt_id,
                labels=len(item.labels),
                agreement=agreement,
                adjudicated=item.adjudication is not None,
            )
        )
    found.sort(key=lambda i: i.item_id)
    page = found[:limit]
    return page, (page[-1].item_id if len(found) > limit else None)
