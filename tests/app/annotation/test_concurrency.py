"""Many annotators at once over real HTTP: nobody over-labels an item, nobody labels an item twice.

Runs against SQLite by default and PostgreSQL when PREFLOOP_TEST_DATABASE_URL is set (CI runs both).
"""

from __future__ import annotations

import random
import threading
from collections import Counter

import httpx
from sqlalchemy import func, select

from app.annotation.models import Assignment, Item, Label
from app.db import session_scope
from tests.factories import add_member, add_prompts, auth, make_project, make_user

ANNOTATORS = 56
OVERLAP = 3


def _annotate_until_done(
    base: str, project_id: int, token: str, results: list[tuple[int, int]], errors: list[str]
) -> None:
    rng = random.Random(token)
    with httpx.Client(base_url=base, headers=auth(token), timeout=60) as client:
        while True:
            r = client.post(f"/api/projects/{project_id}/next")
            if r.status_code == 204:
                return
            if r.status_code != 200:
                errors.append(f"next {r.status_code} {r.text}")
                return
            assignment = r.json()
            choice = rng.choice(["a", "b", "tie"])
            body = {"answer": {"choice": choice, "strength": 2}}
            r = client.post(f"/api/assignments/{assignment['id']}/label", json=body)
            if r.status_code != 201:
                errors.append(f"label {r.status_code} {r.text}")
                return
            results.append((assignment["item"]["id"], r.json()["id"]))


def test_concurrent_annotators_never_over_assign_or_duplicate(live_server: str) -> None:
    project_id = make_project(task_kind="pairwise", overlap=OVERLAP)
    add_prompts(project_id, n_prompts=40, candidates_per_prompt=3)  # 3 pairs per prompt: 120 items
    tokens = []
    for _ in range(ANNOTATORS):
        uid, token = make_user()
        add_member(project_id, uid)
        tokens.append(token)
    results: list[tuple[int, int]] = []
    errors: list[str] = []
    threads = [
        threading.Thread(target=_annotate_until_done, args=(live_server, project_id, t, results, errors))
        for t in tokens
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    with session_scope(write=False) as s:
        n_items = s.scalar(select(func.count()).select_from(Item).where(Item.project_id == project_id))
        per_item = Counter(s.scalars(select(Label.item_id).where(Label.project_id == project_id)))
        per_pair = Counter(s.execute(select(Label.item_id, Label.user_id).where(Label.project_id == project_id)).all())
        n_assign_pairs = Counter(s.execute(select(Assignment.item_id, Assignment.user_id)).all())
        done = s.scalars(select(Item.labels_done).where(Item.project_id == project_id)).all()
    assert n_items == 120
    # Every item got exactly `overlap` labels (enough annotators to finish), none more.
    assert set(per_item.values()) == {OVERLAP} and len(per_item) == n_items
    assert max(per_pair.values()) == 1 and max(n_assign_pairs.values()) == 1
    assert set(done) == {OVERLAP}
    # Every 201 the clients saw is a stored label, and each exactly once.
    assert len(results) == n_items * OVERLAP == sum(per_item.values())
    assert len({label_id for _, label_id in results}) == len(results)
