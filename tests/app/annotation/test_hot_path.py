"""The PostgreSQL hot path for next and submit (``app.annotation.hot_path``, ``hot_routes``).

It must answer exactly as the general code would, and hand every case it does not handle to it. Three
angles: (1) the functions themselves on a real async connection: what they answer and when they
delegate; (2) parity over HTTP: the same requests by an API token (hot path) and by a browser session
(always the general code) give the same responses and store the same rows; (3) the cases it delegates
still get the general code's answers. The rest of the annotation suite runs through it on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from app.annotation import hot_connections, hot_path
from app.annotation.models import Assignment, Item, Label
from app.annotation.schemas import LabelSubmit
from app.auth.models import ApiToken
from app.auth.security import digest
from app.db import session_scope, utcnow
from app.projects.models import ProjectMember
from tests.conftest import PG_URL
from tests.factories import PASSWORD, add_member, add_prompts, auth, make_project, make_user

pytestmark = pytest.mark.skipif(not PG_URL, reason="the hot path runs on PostgreSQL only")


async def _call(work: Any) -> Any:
    """Run ``work`` on a connection of the hot path's own pool (as configured for the service)."""
    try:
        pool = await hot_connections.pool()
        async with pool.connection() as pg:
            return await work(pg)
    finally:
        await hot_connections.close_pools()


@pytest.fixture
def pg_call(engine: Any, settings_env: dict[str, str]) -> Iterator[Any]:
    yield lambda work: asyncio.run(_call(work))
    hot_path._gold_ratios.clear()


def _annotator(project_id: int) -> tuple[int, str]:
    uid, token = make_user()
    add_member(project_id, uid)
    _mark_token_used(uid)
    return uid, token


def _mark_token_used(user_id: int) -> None:
    """As the general code does on a token's first use (the hot path delegates a token not marked lately)."""
    with session_scope() as s:
        s.execute(update(ApiToken).where(ApiToken.user_id == user_id).values(last_used_at=utcnow()))


def test_next_and_submit_in_the_common_case(pg_call: Any) -> None:
    pid = make_project(task_kind="pairwise", overlap=2, lease_seconds=600)
    add_prompts(pid, n_prompts=2, candidates_per_prompt=2)
    uid, token = _annotator(pid)
    now = utcnow()
    body = pg_call(lambda pg: hot_path.next_assignment(pg, digest(token), pid, now))
    assert isinstance(body, bytes)
    lease = json.loads(body)
    assert lease["state"] == "leased" and len(lease["item"]["candidates"]) == 2
    data = LabelSubmit(answer={"choice": "b", "strength": 3}, rationale="clearer")
    stored = pg_call(lambda pg: hot_path.submit_label(pg, digest(token), lease["id"], data, utcnow()))
    assert isinstance(stored, bytes)
    with session_scope() as s:
        label = s.scalars(select(Label).where(Label.user_id == uid)).one()
        item = s.get(Item, label.item_id)
        assignment = s.get(Assignment, lease["id"])
        assert label.answer == {"choice": "b", "strength": 3} and label.rationale == "clearer"
        assert item is not None and (item.labels_done, item.open_slots) == (1, 1)
        assert assignment is not None and assignment.state == "submitted"
        assert assignment.expires_at == now + timedelta(seconds=600)
    # A retried submit is the general code's (it returns the stored label with 200).
    again = pg_call(lambda pg: hot_path.submit_label(pg, digest(token), lease["id"], data, utcnow()))
    assert again is hot_path.DELEGATE


def test_it_delegates_what_the_general_code_decides(pg_call: Any) -> None:
    pid = make_project(task_kind="pairwise", overlap=1)
    add_prompts(pid, n_prompts=3, candidates_per_prompt=2)
    uid, token = _annotator(pid)
    outsider_id, outsider = make_user()
    _mark_token_used(outsider_id)

    def next_for(secret: str) -> Any:
        return pg_call(lambda pg: hot_path.next_assignment(pg, digest(secret), pid, utcnow()))

    assert next_for("not-a-token") is hot_path.DELEGATE  # 401
    assert next_for(outsider) is hot_path.DELEGATE  # not a member: 404
    # Two leases held already: the general code hands back the oldest.
    assert isinstance(next_for(token), bytes) and isinstance(next_for(token), bytes)
    assert next_for(token) is hot_path.DELEGATE
    with session_scope() as s:
        s.execute(update(ProjectMember).where(ProjectMember.user_id == uid).values(paused=True))
    assert next_for(token) is hot_path.DELEGATE  # paused: 403
    # An invalid answer is worded by the general code (422).
    with session_scope() as s:
        assignment_id = s.scalars(select(Assignment.id).where(Assignment.user_id == uid)).first()
    bad = LabelSubmit(answer={"choice": "c"})
    assert pg_call(lambda pg: hot_path.submit_label(pg, digest(token), assignment_id, bad, utcnow())) is (
        hot_path.DELEGATE
    )


def test_a_lease_that_expired_since_the_read_is_left_to_the_general_code(pg_call: Any) -> None:
    pid = make_project(task_kind="pairwise", overlap=1)
    add_prompts(pid, n_prompts=1, candidates_per_prompt=2)
    _uid, token = _annotator(pid)
    lease = json.loads(pg_call(lambda pg: hot_path.next_assignment(pg, digest(token), pid, utcnow())))
    with session_scope() as s:  # the reclaimer got there first
        s.execute(update(Assignment).where(Assignment.id == lease["id"]).values(state="expired"))
    data = LabelSubmit(answer={"choice": "a"})
    assert pg_call(lambda pg: hot_path.submit_label(pg, digest(token), lease["id"], data, utcnow())) is (
        hot_path.DELEGATE
    )
    with session_scope() as s:
        assert s.scalars(select(Label)).all() == []
        item = s.scalars(select(Item).where(Item.project_id == pid)).one()
        assert item.labels_done == 0


class _AlwaysGold(random.Random):
    def random(self) -> float:
        return 0.0


def test_gold_projects_take_the_two_step_next(pg_call: Any) -> None:
    pid = make_project(task_kind="pairwise", overlap=1, gold_ratio=0.5)
    add_prompts(pid, n_prompts=4, candidates_per_prompt=2)
    with session_scope() as s:
        gold_id = s.scalars(select(Item.id).where(Item.project_id == pid).order_by(Item.id.desc())).first()
        s.execute(update(Item).where(Item.id == gold_id).values(is_gold=True, gold_answer={"choice": "a"}))
    _uid, token = _annotator(pid)
    rng = _AlwaysGold()
    # The one-statement next picks nothing in a project with gold (its draw needs the ratio first): it
    # learns the ratio and the two-step next answers, drawing gold.
    first = json.loads(pg_call(lambda pg: hot_path.next_assignment(pg, digest(token), pid, utcnow(), rng)))
    assert first["item"]["id"] == gold_id and hot_path._gold_ratios[pid] == 0.5
    # Then straight to the two-step next: no gold left for this annotator, so an open item.
    second = json.loads(pg_call(lambda pg: hot_path.next_assignment(pg, digest(token), pid, utcnow(), rng)))
    assert second["item"]["id"] != gold_id
    with session_scope() as s:
        assignment = s.get(Assignment, first["id"])
        assert assignment is not None and assignment.is_gold
        gold = s.get(Item, gold_id)
        assert gold is not None and gold.open_slots == 1  # gold items have no slots to take


def _browser(app_client: httpx.Client, username: str) -> dict[str, str]:
    r = app_client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"X-CSRF-Token": r.json()["csrf_token"]}


@pytest.mark.parametrize(
    ("kind", "answer"),
    [
        ("pairwise", {"choice": "tie", "strength": 2}),
        ("rating", {"scores": {"helpfulness": 4}}),
        ("ranking", None),
        ("pairwise", "flag only"),
    ],
)
def test_same_answers_and_rows_as_the_general_code(
    app_client: httpx.Client, engine: Any, kind: str, answer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    answered: list[str] = []
    for name in ("next_assignment", "submit_label"):
        real = getattr(hot_path, name)

        async def watched(*args: Any, _real: Any = real, _name: str = name) -> Any:
            outcome = await _real(*args)
            answered.append(_name if isinstance(outcome, bytes) else "delegated")
            return outcome

        monkeypatch.setattr(hot_path, name, watched)
    fields: dict[str, Any] = {"task_kind": kind, "overlap": 2}
    if kind == "rating":
        fields["criteria"] = [{"name": "helpfulness", "description": "", "min": 1, "max": 5}]
    if kind == "ranking":
        fields["candidates_per_item"] = 3
    pid = make_project(**fields)
    add_prompts(pid, n_prompts=1, candidates_per_prompt=3 if kind == "ranking" else 2)
    hot_uid, token = _annotator(pid)
    username = f"browser-{kind}-{'ranking' if answer is None else 'flags' if answer == 'flag only' else 'answer'}"
    general_uid, _ = make_user(username=username)
    add_member(pid, general_uid)
    csrf = _browser(app_client, username)

    def loop(headers: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
        lease = app_client.post(f"/api/projects/{pid}/next", headers=headers)
        assert lease.status_code == 200, lease.text
        body: dict[str, Any] = {"rationale": "why", "time_spent_ms": 1200}
        if answer == "flag only":
            body["flags"] = ["unusable"]
        elif answer is None:
            ids = [c["id"] for c in lease.json()["item"]["candidates"]]
            body["answer"] = {"order": [[ids[1]], [ids[0], ids[2]]]}
        else:
            body["answer"] = answer
        label = app_client.post(f"/api/assignments/{lease.json()['id']}/label", json=body, headers=headers)
        assert label.status_code == 201, label.text
        return lease.json(), label.json()

    general_lease, general_label = loop(csrf)
    app_client.cookies.clear()  # the token requests must not carry the session cookie
    assert answered == []  # a browser session always takes the general code
    hot_lease, hot_label = loop(auth(token))
    assert answered == ["next_assignment", "submit_label"]  # and these two the hot path

    def shape(doc: dict[str, Any]) -> dict[str, Any]:
        """Ids and times differ between the two; everything else must not."""
        drop = {"id", "assignment_id", "leased_at", "expires_at", "created_at", "updated_at"}
        return {k: shape(v) if isinstance(v, dict) else v for k, v in doc.items() if k not in drop}

    assert general_lease["item"]["id"] == hot_lease["item"]["id"]
    assert shape(general_lease) == shape(hot_lease)
    if answer is None:  # the two rankings name the same candidates
        assert general_label["answer"] == hot_label["answer"]
    assert shape(general_label) == shape(hot_label)
    for key in ("leased_at", "expires_at"):  # same format: UTC with a Z
        assert general_lease[key].endswith("Z") and hot_lease[key].endswith("Z")
    assert general_label["created_at"].endswith("Z") and hot_label["created_at"].endswith("Z")
    with engine.connect() as conn:
        columns = "answer::text, flags::text, is_gold, rationale, rewrite, time_spent_ms, project_id, item_id"
        rows = {
            user_id: conn.exec_driver_sql(
                f"SELECT {columns} FROM labels WHERE user_id = %(u)s",
                {"u": user_id},
            ).one()
            for user_id in (general_uid, hot_uid)
        }
    assert rows[general_uid] == rows[hot_uid]
