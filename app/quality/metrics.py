"""Inter-annotator agreement and ranking statistics: pure functions, no database, no app state.

Every agreement function returns ``None`` where the statistic is undefined (too little data, or a
chance-corrected statistic whose expected disagreement is zero, i.e. everyone used one value) rather
than a made-up 0.0 or 1.0, so a report can show "n/a" instead of a misleading number.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from itertools import combinations
from typing import Any, Literal

import krippendorff
import numpy as np

Level = Literal["nominal", "ordinal", "interval"]


def krippendorff_alpha(
    units: Sequence[Sequence[float | None]] | Mapping[Any, Mapping[Any, float | None]],
    level: Level = "nominal",
    value_domain: Sequence[float] | None = None,
) -> float | None:
    """Krippendorff's alpha: 1 - observed / expected disagreement, over any number of raters with gaps.

    ``units`` is either one list of ratings per unit (``None`` = missing) or ``{unit: {rater: value}}``.
    1.0 is perfect agreement, 0.0 what chance gives, below 0 systematic disagreement (bounded below by
    -1 only loosely). ``value_domain`` is the full scale (e.g. 1..5): a rating outside it raises
    ValueError. Units rated once carry no pairs and are ignored. Returns None with no unit rated at
    least twice, or when all paired ratings are one value (zero expected disagreement: 0/0).
    """
    rows = [list(u.values()) for u in units.values()] if isinstance(units, Mapping) else [list(u) for u in units]
    # Alpha depends only on how many times each value occurs in each unit, not on who gave it, so each
    # unit's ratings can be packed into rows 0..k-1 of the raters x units matrix the package expects.
    values = [[float(v) for v in row if v is not None and not math.isnan(v)] for row in rows]
    paired = {v for row in values if len(row) >= 2 for v in row}
    if len(paired) < 2:  # the package raises or returns nan here; both mean "undefined"
        return None
    width = max(len(row) for row in values)
    data = np.full((width, len(values)), np.nan)
    for j, row in enumerate(values):
        data[: len(row), j] = row
    with np.errstate(invalid="ignore", divide="ignore"):
        result = float(krippendorff.alpha(reliability_data=data, value_domain=value_domain, level_of_measurement=level))
    return None if math.isnan(result) else result


def _pair_counts(values: Sequence[Hashable]) -> tuple[int, int]:
    """(agreeing pairs, all pairs) among one unit's ratings."""
    n = len(values)
    agreeing = sum(c * (c - 1) // 2 for c in Counter(values).values())
    return agreeing, n * (n - 1) // 2


def item_agreement(values: Sequence[Hashable]) -> float | None:
    """Share of rater pairs on one unit that gave the same rating, 0..1; None with fewer than 2 ratings."""
    agreeing, pairs = _pair_counts(values)
    return agreeing / pairs if pairs else None


def percent_agreement(units: Sequence[Sequence[Hashable]]) -> float | None:
    """Raw (not chance-corrected) agreement, 0..1: agreeing rater pairs / all rater pairs, pooled over units.

    Pooling pairs weights a unit with many raters more than one with two, as each pair is one comparison.
    Units with fewer than 2 ratings have no pairs; None when no unit has any.
    """
    agreeing = pairs = 0
    for unit in units:
        a, p = _pair_counts(unit)
        agreeing, pairs = agreeing + a, pairs + p
    return agreeing / pairs if pairs else None


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    """Cohen's kappa for two raters over the same units: (p_o - p_e) / (1 - p_e), in -1..1.

    1.0 is perfect agreement, 0.0 chance level. ``a[i]`` and ``b[i]`` rate the same unit (ValueError if the
    lengths differ). Returns None for no units, and when p_e == 1: both raters used one and the same
    category throughout, so agreement is entirely expected by chance and kappa is 0/0 (p_o is then 1
    too; we don't report 1.0 because nothing distinguishes it from two raters who never looked).
    """
    if len(a) != len(b):
        raise ValueError(f"raters rated different numbers of units: {len(a)} != {len(b)}")
    n = len(a)
    if n == 0:
        return None
    # Integer arithmetic: p_o = agree/n and p_e = expected/n^2, so the p_e == 1 test is exact.
    agree = sum(x == y for x, y in zip(a, b, strict=True))
    counts_b = Counter(b)
    expected = sum(c * counts_b[cat] for cat, c in Counter(a).items())
    if expected == n * n:
        return None
    return (n * agree - expected) / (n * n - expected)


def fleiss_kappa(units: Sequence[Sequence[Hashable]], categories: Sequence[Hashable] | None = None) -> float | None:
    """Fleiss' kappa for many raters: (P_bar - P_e) / (1 - P_e), 1.0 perfect, 0.0 chance, negative worse.

    Each unit lists the categories its raters chose; the number of raters may differ per unit (P_i is each
    unit's share of agreeing ordered pairs, P_bar their mean over units with >= 2 ratings, p_j the
    category shares over all ratings in those units). With equal counts this is the classic formula.
    ``categories``, if given, is checked (ValueError on anything else); unused categories change nothing.
    None when no unit has 2 ratings, or every rating is the same category (P_e == 1, 0/0).
    """
    allowed = set(categories) if categories is not None else None
    per_unit: list[float] = []
    totals: Counter[Hashable] = Counter()
    for unit in units:
        if allowed is not None and not allowed.issuperset(unit):
            raise ValueError(f"ratings outside categories: {set(unit) - allowed}")
        if len(unit) < 2:
            continue  # one rating has no pair to agree with
        agreeing, pairs = _pair_counts(unit)
        per_unit.append(agreeing / pairs)
        totals.update(unit)
    n_ratings = sum(totals.values())
    if not per_unit or max(totals.values()) == n_ratings:
        return None
    p_bar = sum(per_unit) / len(per_unit)
    p_e = sum((c / n_ratings) ** 2 for c in totals.values())
    return (p_bar - p_e) / (1 - p_e)


def kendall_tau_b(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Kendall's tau-b between two scorings of the same objects, -1..1, correcting for ties.

    (concordant - discordant) / sqrt(pairs untied in x * pairs untied in y). Symmetric, so whether a low
    value means "better" doesn't matter as long as both sides use the same direction. O(n^2), meant for
    the handful of candidates of one item. ValueError on different lengths; None when either side is
    entirely tied (or has fewer than 2 objects), where the correlation is 0/0.
    """
    if len(x) != len(y):
        raise ValueError(f"different lengths: {len(x)} != {len(y)}")
    score = untied_x = untied_y = 0
    for i, j in combinations(range(len(x)), 2):
        dx = (x[i] > x[j]) - (x[i] < x[j])
        dy = (y[i] > y[j]) - (y[i] < y[j])
        score += dx * dy
        untied_x += dx != 0
        untied_y += dy != 0
    if untied_x == 0 or untied_y == 0:
        return None
    return score / math.sqrt(untied_x * untied_y)


def average_ranks(values: Sequence[float]) -> list[float]:
    """Ranks 1..n of ``values`` (lowest first), tied values sharing the mean of the positions they span."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for k in range(start, end + 1):
            ranks[order[k]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def kendall_w(rankings: Sequence[Sequence[float]]) -> float | None:
    """Kendall's W (coefficient of concordance) of m raters ranking the same n objects, 0..1.

    1.0: all raters give the same order; 0.0: no shared preference at all. Each ranking lists, for objects
    in a fixed order, a rank position or tier number (lower = better; equal = tied); they are converted to
    average ranks, and W uses the tie correction 12 S / (m^2 (n^3 - n) - m sum(t^3 - t)). ValueError if
    rankings differ in length; None when m < 2, n < 2, or every rater ties everything (denominator 0).
    """
    m = len(rankings)
    if m < 2:
        return None
    n = len(rankings[0])
    if any(len(r) != n for r in rankings):
        raise ValueError("every ranking must cover the same objects")
    if n < 2:
        return None
    rank_sums = np.zeros(n)
    ties = 0
    for ranking in rankings:
        rank_sums += average_ranks(ranking)
        ties += sum(t**3 - t for t in Counter(ranking).values())
    s = float(((rank_sums - m * (n + 1) / 2) ** 2).sum())
    denominator = m * m * (n**3 - n) - m * ties
    return 12 * s / denominator if denominator else None


def tier_ranks(order: Sequence[Sequence[int]]) -> dict[int, float]:
    """Average rank per id from a best-first list of tiers (ids in one tier are tied).

    ``[[7], [3, 9], [4]]`` -> ``{7: 1.0, 3: 2.5, 9: 2.5, 4: 4.0}``: a tier spanning positions p+1..p+k
    gives each member p + (k + 1) / 2. Empty tiers take no positions; a repeated id raises ValueError.
    """
    ranks: dict[int, float] = {}
    position = 0
    for tier in order:
        for candidate in tier:
            if candidate in ranks:
                raise ValueError(f"id {candidate} appears more than once")
            ranks[candidate] = position + (len(tier) + 1) / 2
        position += len(tier)
    return ranks


def binomial_two_sided_p(k: int, n: int, p: float = 0.5) -> float:
    """Exact two-sided binomial test: probability, under Binomial(n, p), of an outcome no likelier than k.

    Small values (e.g. < 0.01) mean k successes in n trials is implausible at rate p, e.g. an annotator
    picking the left response far more often than half the time. In 0..1; 1.0 for n == 0.
    """
    if not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be a probability, got {p}")
    if p in (0.0, 1.0):  # degenerate: one outcome has probability 1, every other 0
        return 1.0 if k == (0 if p == 0.0 else n) else 0.0
    # log C(n, i) as a cumulative sum of log((n - i + 1) / i): numpy has no vectorised lgamma and calling
    # math.lgamma per outcome is too slow for n ~ 1e5; the accumulated error (~1e-10) is far below the
    # tolerance used for ties.
    i = np.arange(1, n + 1, dtype=np.float64)
    log_comb = np.concatenate(([0.0], np.cumsum(np.log(n - i + 1) - np.log(i))))
    outcomes = np.arange(n + 1, dtype=np.float64)
    log_pmf = log_comb + outcomes * math.log(p) + (n - outcomes) * math.log1p(-p)
    # Relative tolerance as scipy's binomtest, so outcomes exactly as likely as k (the mirror image when
    # p = 0.5) are counted despite rounding.
    tail = log_pmf[log_pmf <= log_pmf[k] + 1e-7]
    top = float(tail.max())
    return min(1.0, math.exp(top) * float(np.exp(tail - top).sum()))
