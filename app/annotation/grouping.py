"""Which candidates of a prompt go together into one item, and in what display order.

Pure functions: the same candidates, project settings and seed always give the same items, so
re-running item building after an import never duplicates or reshuffles what annotators already saw.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.projects.models import Grouping


@dataclass(frozen=True, slots=True)
class Group:
    key: str
    """Stable identity: the candidate ids, sorted, joined by '-'."""
    display_order: tuple[int, ...]


def group_key(candidate_ids: Iterable[int]) -> str:
    return "-".join(str(c) for c in sorted(candidate_ids))


def display_order(candidate_ids: Sequence[int], seed: int) -> tuple[int, ...]:
    """A randomised order that is the same every time for the same group (position bias is averaged out)."""
    order = list(candidate_ids)
    random.Random(f"{seed}:{group_key(candidate_ids)}").shuffle(order)
    return tuple(order)


def plan_groups(
    candidate_ids: Sequence[int],
    *,
    size: int,
    grouping: Grouping,
    cap: int,
    seed: int,
    prompt_id: int,
    existing_keys: set[str],
    used_ids: set[int],
) -> list[Group]:
    """New groups for one prompt, given the groups (and candidates) it already has items for."""
    ids = sorted(candidate_ids)
    room = cap - len(existing_keys)
    if room <= 0 or len(ids) < size:
        return []
    rng = random.Random(f"{seed}:prompt:{prompt_id}")
    combos: Iterable[tuple[int, ...]]
    if size == 1:
        combos = ((c,) for c in ids)
    elif grouping == Grouping.anchor:
        combos = ((ids[0], c) for c in ids[1:])
    elif grouping == Grouping.disjoint:
        free = [c for c in ids if c not in used_ids]
        rng.shuffle(free)
        combos = (tuple(free[i : i + size]) for i in range(0, len(free) - size + 1, size))
    else:
        shuffled = list(ids)
        rng.shuffle(shuffled)
        combos = itertools.combinations(shuffled, size)
    out: list[Group] = []
    for combo in combos:
        key = group_key(combo)
        if key in existing_keys:
            continue
        existing_keys.add(key)
        out.append(Group(key, display_order(combo, seed)))
        if len(out) >= room:
            break
    return out
