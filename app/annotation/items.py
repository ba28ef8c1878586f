"""Build items from candidates, per the project's task kind, grouping and overlap."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.annotation.grouping import plan_groups
from app.annotation.models import Item
from app.db import utcnow
from app.projects.models import Project
from app.prompts.models import Candidate

BATCH = 2000


def build_items(session: Session, project: Project, prompt_ids: Sequence[int] | None = None) -> int:
    """Create the items that the prompts' candidates allow and that do not exist yet; returns how many.

    ``prompt_ids=None`` means every prompt of the project. Safe to call again at any time.
    """
    if prompt_ids is None:
        prompt_ids = list(
            session.scalars(select(Candidate.prompt_id).where(Candidate.project_id == project.id).distinct())
        )
    created = 0
    for start in range(0, len(prompt_ids), BATCH):
        created += _build_batch(session, project, prompt_ids[start : start + BATCH])
    return created


def _build_batch(session: Session, project: Project, prompt_ids: Sequence[int]) -> int:
    candidates: dict[int, list[int]] = defaultdict(list)
    for prompt_id, cand_id in session.execute(
        select(Candidate.prompt_id, Candidate.id).where(Candidate.prompt_id.in_(prompt_ids))
    ):
        candidates[prompt_id].append(cand_id)
    existing: dict[int, set[str]] = defaultdict(set)
    used: dict[int, set[int]] = defaultdict(set)
    for prompt_id, key, cand_ids in session.execute(
        # By prompt alone (prompts belong to one project): with project_id too, SQLite picks the
        # (project_id, group_key) index and scans the whole project for every batch.
        select(Item.prompt_id, Item.group_key, Item.candidate_ids).where(Item.prompt_id.in_(prompt_ids))
    ):
        existing[prompt_id].add(key)
        used[prompt_id].update(cand_ids)
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for prompt_id, cand_ids in candidates.items():
        for group in plan_groups(
            cand_ids,
            size=project.candidates_per_item,
            grouping=project.grouping,
            cap=project.max_items_per_prompt,
            seed=project.seed,
            prompt_id=prompt_id,
            existing_keys=existing[prompt_id],
            used_ids=used[prompt_id],
        ):
            rows.append(
                {
                    "project_id": project.id,
                    "prompt_id": prompt_id,
                    "candidate_ids": list(group.display_order),
                    "group_key": group.key,
                    "is_gold": False,
                    "priority": 0,
                    "overlap": project.overlap,
                    "labels_done": 0,
                    "open_slots": project.overlap,
                    "created_at": now,
                }
            )
    if not rows:
        return 0
    session.execute(_insert_ignoring_duplicates(session), rows)
    return len(rows)


def _insert_ignoring_duplicates(session: Session) -> Any:
    # A concurrent build of the same prompt may have inserted a group first: skip it, don't fail.
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return pg_insert(Item).on_conflict_do_nothing(index_elements=["project_id", "group_key"])
    if dialect == "sqlite":
        return sqlite_insert(Item).on_conflict_do_nothing(index_elements=["project_id", "group_key"])
    return insert(Item)
