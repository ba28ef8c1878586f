"""A leaderboard of model versions from every human pairwise judgement between two versions' responses.

Bradley-Terry strengths fitted by minorise-maximise (Hunter 2004), a tie counting half a win for each
side, and each version given two virtual ties against an average opponent (strength 1) so that an unbeaten version
still gets a finite rating. Shown on the Elo scale (400 points = 10:1 odds, mean 1000), with 95%
intervals from a seeded bootstrap over the judgements.
"""

from __future__ import annotations

import math
import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.annotation.models import Item, Label
from app.projects.models import Project, TaskKind
from app.prompts.models import Candidate
from app.registry.models import ModelVersion

BOOTSTRAP = 200
ITERATIONS = 200


@dataclass(frozen=True, slots=True)
class Comparison:
    winner: int
    loser: int
    tie: bool


class LeaderboardEntry(BaseModel):
    model_version_id: int
    name: str
    kind: str
    rating: float = Field(description="Elo scale: mean 1000, 400 points = 10:1 odds of being preferred.")
    ci_low: float
    ci_high: float
    wins: int
    losses: int
    ties: int
    comparisons: int


def human_comparisons(session: Session, project_ids: Collection[int] | None = None) -> list[Comparison]:
    """Every non-gold pairwise label whose two responses come from two different model versions, in the
    given projects (None: in every project)."""
    stmt = (
        select(Item.candidate_ids, Label.answer)
        .join(Label, Label.item_id == Item.id)
        .join(Project, Project.id == Item.project_id)
        .where(Project.task_kind == TaskKind.pairwise, Label.answer.is_not(None), Item.is_gold.is_(False))
    )
    if project_ids is not None:
        stmt = stmt.where(Item.project_id.in_(list(project_ids)))
    rows = session.execute(stmt).all()
    ids = {cid for cands, _ in rows for cid in cands}
    version_of = dict(
        session.execute(
            select(Candidate.id, Candidate.model_version_id).where(
                Candidate.id.in_(ids), Candidate.model_version_id.is_not(None)
            )
        ).all()
    )
    out = []
    for cands, answer in rows:
        a, b = version_of.get(cands[0]), version_of.get(cands[1])
        if a is None or b is None or a == b:
            continue
        choice = answer.get("choice")
        if choice == "tie":
            out.append(Comparison(a, b, True))
        elif choice in ("a", "b"):
            out.append(Comparison(a, b, False) if choice == "a" else Comparison(b, a, False))
    return out


def bradley_terry(comparisons: Sequence[Comparison], players: Sequence[int]) -> dict[int, float]:
    """Log-strengths (natural log, mean 0) by minorise-maximise."""
    index = {p: i for i, p in enumerate(players)}
    n = len(players)
    wins = [1.0] * n  # the two virtual ties: half a win each ...
    games: dict[tuple[int, int], float] = {}
    for c in comparisons:
        w, lo = index[c.winner], index[c.loser]
        wins[w] += 0.5 if c.tie else 1.0
        wins[lo] += 0.5 if c.tie else 0.0
        key = (min(w, lo), max(w, lo))
        games[key] = games.get(key, 0.0) + 1.0
    strength = [1.0] * n
    for _ in range(ITERATIONS):
        denom = [2.0 / (s + 1.0) for s in strength]  # ... and its two half-games against strength 1
        for (i, j), count in games.items():
            denom[i] += count / (strength[i] + strength[j])
            denom[j] += count / (strength[i] + strength[j])
        new = [wins[i] / denom[i] for i in range(n)]
        mean_log = sum(math.log(s) for s in new) / n
        strength = [s / math.exp(mean_log) for s in new]
    return {p: math.log(strength[index[p]]) for p in players}


def _elo(log_strength: float) -> float:
    return 1000.0 + 400.0 * log_strength / math.log(10.0)


def leaderboard(session: Session, project_ids: Collection[int] | None = None) -> list[LeaderboardEntry]:
    comparisons = human_comparisons(session, project_ids)
    players = sorted({c.winner for c in comparisons} | {c.loser for c in comparisons})
    if not players:
        return []
    fit = bradley_terry(comparisons, players)
    rng = random.Random(0)
    samples: dict[int, list[float]] = {p: [] for p in players}
    for _ in range(BOOTSTRAP):
        resample = [comparisons[rng.randrange(len(comparisons))] for _ in comparisons]
        for p, v in bradley_terry(resample, players).items():
            samples[p].append(v)
    names = dict(
        (r.id, (r.name, r.kind))
        for r in session.execute(
            select(ModelVersion.id, ModelVersion.name, ModelVersion.kind).where(ModelVersion.id.in_(players))
        )
    )
    entries = []
    for p in players:
        s = sorted(samples[p])
        entries.append(
            LeaderboardEntry(
                model_version_id=p,
                name=names.get(p, ("?", "?"))[0],
                kind=str(names.get(p, ("?", "?"))[1]),
                rating=round(_elo(fit[p]), 1),
                ci_low=round(_elo(s[int(0.025 * (len(s) - 1))]), 1),
                ci_high=round(_elo(s[int(0.975 * (len(s) - 1))]), 1),
                wins=sum(1 for c in comparisons if c.winner == p and not c.tie),
                losses=sum(1 for c in comparisons if c.loser == p and not c.tie),
                ties=sum(1 for c in comparisons if c.tie and p in (c.winner, c.loser)),
                comparisons=sum(1 for c in comparisons if p in (c.winner, c.loser)),
            )
        )
    return sorted(entries, key=lambda e: -e.rating)
