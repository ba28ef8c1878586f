"""Labels per task kind, skip and flag, edits, lease expiry, gold mixing, and who may see what."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from app.annotation import queue
from app.annotation.models import Assignment, Item, Label
from app.db import session_scope, utcnow
from app.projects.models import ProjectRole
from tests.factories import add_member, add_prompts, auth, make_project, make_user


def _setup(kind: str, n_prompts: int = 2, n_cands: int = 2, **fields: object) -> tuple[int, str]:
    project_id = make_project(task_kind=kind, **fields)
    add_prompts(project_id, n_prompts=n_prompts, candidates_per_prompt=n_cands)
    uid, token = make_user()
    add_member(project_id, uid)
    return project_id, token


def _next(client: httpx.Client, project_id: int, token: str) -> dict:
    r = client.post(f"/api/projects/{project_id}/next", headers=auth(token))
    assert r.status_code == 200, r.text
    return r.json()


def _label(client: httpx.Client, aid: int, token: str, body: dict) -> httpx.Response:
    return client.post(f"/api/assignments/{aid}/label", json=body, headers=auth(token))


def test_rating_scores_are_checked_against_each_criterion(app_client: httpx.Client) -> None:
    criteria = [
        {"name": "helpful", "min": 1, "max": 5},
        {"name": "safe", "min": 0, "max": 1, "description": "thumbs"},
    ]
    pid, token = _setup("rating", criteria=criteria)
    a = _next(app_client, pid, token)
    assert len(a["item"]["candidates"]) == 1
    r = _label(app_client, a["id"], token, {"answer": {"scores": {"helpful": 6, "safe": 1}}})
    assert r.status_code == 422 and r.json()["field"] == "answer.scores.helpful" and "1..5" in r.json()["detail"]
    r = _label(app_client, a["id"], token, {"answer": {"scores": {"helpful": 4}}})
    assert r.status_code == 422 and r.json()["field"] == "answer.scores.safe"
    r = _label(app_client, a["id"], token, {"answer": {"scores": {"helpful": 4, "safe": 1, "tone": 2}}})
    assert r.status_code == 422 and r.json()["field"] == "answer.scores.tone"
    r = _label(app_client, a["id"], token, {"answer": {"scores": {"helpful": 4, "safe": 1}}, "time_spent_ms": 5300})
    assert r.status_code == 201 and r.json()["answer"] == {"scores": {"helpful": 4, "safe": 1}}


def test_pairwise_answer_validation_and_tie(app_client: httpx.Client) -> None:
    pid, token = _setup("pairwise")
    a = _next(app_client, pid, token)
    r = _label(app_client, a["id"], token, {"answer": {"choice": "c"}})
    assert r.status_code == 422 and r.json()["field"] == "answer.choice"
    r = _label(app_client, a["id"], token, {"answer": {"choice": "a", "strength": 4}})
    assert r.status_code == 422 and r.json()["field"] == "answer.strength"
    r = _label(app_client, a["id"], token, {"answer": {"choice": "tie"}, "rationale": "equally good"})
    assert r.status_code == 201 and r.json()["answer"] == {"choice": "tie", "strength": 0}


def test_ranking_needs_exactly_the_items_candidates_with_ties_allowed(app_client: httpx.Client) -> None:
    pid, token = _setup("ranking", n_prompts=1, n_cands=4, candidates_per_item=4)
    a = _next(app_client, pid, token)
    ids = [c["id"] for c in a["item"]["candidates"]]
    assert len(ids) == 4
    r = _label(app_client, a["id"], token, {"answer": {"order": [[ids[0]], [ids[1]], [ids[2]]]}})
    assert r.status_code == 422 and "missing" in r.json()["detail"]
    r = _label(app_client, a["id"], token, {"answer": {"order": [[ids[0]], [ids[0], ids[1]], [ids[2], ids[3]]]}})
    assert r.status_code == 422 and "more than once" in r.json()["detail"]
    r = _label(app_client, a["id"], token, {"answer": {"order": [[ids[0], 999999], [ids[1]], [ids[2]], [ids[3]]]}})
    assert r.status_code == 422
    order = [[ids[2]], [ids[0], ids[3]], [ids[1]]]
    r = _label(app_client, a["id"], token, {"answer": {"order": order}})
    assert r.status_code == 201 and r.json()["answer"]["order"] == order


def test_flag_without_answer_and_unknown_fields_rejected(app_client: httpx.Client) -> None:
    pid, token = _setup("pairwise")
    a = _next(app_client, pid, token)
    r = _label(app_client, a["id"], token, {})
    assert r.status_code == 422 and r.json()["field"] == "answer"
    r = _label(app_client, a["id"], token, {"flags": ["bad flag!"]})
    assert r.status_code == 422
    r = _label(app_client, a["id"], token, {"answer": {"choice": "a"}, "surprise": 1})
    assert r.status_code == 422
    r = _label(app_client, a["id"], token, {"flags": ["unsafe", "unusable"]})
    assert r.status_code == 201 and r.json()["answer"] is None and r.json()["flags"] == ["unsafe", "unusable"]
    progress = app_client.get(f"/api/projects/{pid}/progress", headers=auth(token)).json()
    assert progress["flagged"] == 1


def test_skip_returns_the_slot_and_the_item_never_comes_back(app_client: httpx.Client) -> None:
    pid, token = _setup("pairwise", n_prompts=1, overlap=1)
    a = _next(app_client, pid, token)
    r = app_client.post(f"/api/assignments/{a['id']}/skip", json={"reason": "not my language"}, headers=auth(token))
    assert r.status_code == 200 and r.json()["state"] == "skipped"
    assert app_client.post(f"/api/projects/{pid}/next", headers=auth(token)).status_code == 204
    assert _label(app_client, a["id"], token, {"answer": {"choice": "a"}}).status_code == 409
    uid2, token2 = make_user()
    add_member(pid, uid2)
    b = _next(app_client, pid, token2)  # the slot went back: someone else gets the item
    assert b["item"]["id"] == a["item"]["id"]


def test_edit_until_complete_then_locked(app_client: httpx.Client) -> None:
    pid, token = _setup("pairwise", n_prompts=1, overlap=2)
    a = _next(app_client, pid, token)
    label = _label(app_client, a["id"], token, {"answer": {"choice": "a", "strength": 1}}).json()
    r = app_client.patch(
        f"/api/labels/{label['id']}", json={"answer": {"choice": "b", "strength": 3}}, headers=auth(token)
    )
    assert r.status_code == 200 and r.json()["answer"] == {"choice": "b", "strength": 3}
    # Re-submitting different content on the same assignment updates too (still one label).
    r = _label(app_client, a["id"], token, {"answer": {"choice": "a", "strength": 2}})
    assert r.status_code == 200 and r.json()["id"] == label["id"]
    uid2, token2 = make_user()
    add_member(pid, uid2)
    b = _next(app_client, pid, token2)
    assert _label(app_client, b["id"], token2, {"answer": {"choice": "a"}}).status_code == 201
    r = app_client.patch(f"/api/labels/{label['id']}", json={"answer": {"choice": "tie"}}, headers=auth(token))
    assert r.status_code == 409 and "complete" in r.json()["detail"]
    with session_scope(write=False) as s:
        assert s.scalar(select(Label.answer).where(Label.id == label["id"])) == {"choice": "a", "strength": 2}


def _expire_all_leases() -> None:
    with session_scope() as s:
        s.execute(update(Assignment).values(expires_at=utcnow() - timedelta(seconds=1)))
    queue._last_reclaim.clear()  # the next pick looks for overdue leases at once


def test_expired_lease_returns_to_the_pool_and_a_late_submit_needs_room(app_client: httpx.Client) -> None:
    pid, token = _setup("pairwise", n_prompts=1, overlap=1)
    a = _next(app_client, pid, token)
    _expire_all_leases()
    uid2, token2 = make_user()
    add_member(pid, uid2)
    b = _next(app_client, pid, token2)  # the expired slot is free again
    assert b["item"]["id"] == a["item"]["id"]
    assert _label(app_client, b["id"], token2, {"answer": {"choice": "b"}}).status_code == 201
    late = _label(app_client, a["id"], token, {"answer": {"choice": "a"}})
    assert late.status_code == 409 and "expired" in late.json()["detail"]
    with session_scope(write=False) as s:
        item = s.get(Item, a["item"]["id"])
        assert item is not None and item.labels_done == 1 and item.open_slots == 0


def test_a_live_lease_can_be_extended_an_expired_one_cannot(app_client: httpx.Client) -> None:
    pid, token = _setup("pairwise", n_prompts=1, overlap=1, lease_seconds=60)
    a = _next(app_client, pid, token)
    with session_scope() as s:  # 10 s left
        s.execute(
            update(Assignment).where(Assignment.id == a["id"]).values(expires_at=utcnow() + timedelta(seconds=10))
        )
    extended = app_client.post(f"/api/assignments/{a['id']}/extend", headers=auth(token))
    assert extended.status_code == 200, extended.text
    with session_scope(write=False) as s:
        left = (s.get(Assignment, a["id"]).expires_at - utcnow()).total_seconds()  # type: ignore[union-attr]
    assert 55 < left <= 60
    _expire_all_leases()
    gone = app_client.post(f"/api/assignments/{a['id']}/extend", headers=auth(token))
    assert gone.status_code == 409 and "expired" in gone.json()["detail"]


def test_late_submit_is_accepted_while_the_item_has_room(app_client: httpx.Client) -> None:
    pid, token = _setup("pairwise", n_prompts=1, overlap=2)
    a = _next(app_client, pid, token)
    _expire_all_leases()
    app_client.post(f"/api/projects/{pid}/next", headers=auth(token))  # triggers the reclaim
    assert _label(app_client, a["id"], token, {"answer": {"choice": "a"}}).status_code == 201
    with session_scope(write=False) as s:
        item = s.get(Item, a["item"]["id"])
        assert item is not None and item.labels_done == 1 and item.open_slots == 1


def test_at_most_two_open_leases_then_the_oldest_is_returned(app_client: httpx.Client) -> None:
    pid, token = _setup("pairwise", n_prompts=4)
    first = _next(app_client, pid, token)
    second = _next(app_client, pid, token)
    third = _next(app_client, pid, token)
    assert first["id"] != second["id"] and third["id"] == first["id"]


def test_gold_items_are_mixed_in_and_not_capped_by_overlap(app_client: httpx.Client) -> None:
    pid = make_project(task_kind="pairwise", overlap=1, gold_ratio=0.5)
    add_prompts(pid, n_prompts=20, candidates_per_prompt=2)
    with session_scope() as s:
        gold_ids = s.scalars(select(Item.id).where(Item.project_id == pid).order_by(Item.id).limit(4)).all()
        s.execute(update(Item).where(Item.id.in_(gold_ids)).values(is_gold=True, gold_answer={"choice": "a"}))
    seen_gold = 0
    for _ in range(2):
        uid, token = make_user()
        add_member(pid, uid)
        while (r := app_client.post(f"/api/projects/{pid}/next", headers=auth(token))).status_code == 200:
            a = r.json()
            assert "is_gold" not in a["item"] and "gold_answer" not in r.text  # indistinguishable
            seen_gold += a["item"]["id"] in gold_ids
            assert _label(app_client, a["id"], token, {"answer": {"choice": "a"}}).status_code == 201
    # Each of the two annotators got every gold item once; the 16 regular items were labelled once in all.
    assert seen_gold == 8
    with session_scope(write=False) as s:
        regular = s.scalars(select(Item.labels_done).where(Item.project_id == pid, Item.id.not_in(gold_ids))).all()
    assert sorted(set(regular)) == [1]


def test_paused_member_gets_no_items(app_client: httpx.Client) -> None:
    pid, token = _setup("pairwise")
    with session_scope() as s:
        from app.projects.models import ProjectMember

        s.execute(update(ProjectMember).values(paused=True))
    r = app_client.post(f"/api/projects/{pid}/next", headers=auth(token))
    assert r.status_code == 403 and "paused" in r.json()["detail"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/assignments/{aid}",
        "/api/assignments/{aid}/skip",
        "/api/assignments/{aid}/label",
        "/api/assignments/{aid}/extend",
    ],
)
def test_nobody_reaches_another_annotators_assignment(app_client: httpx.Client, path: str) -> None:
    pid, token = _setup("pairwise")
    a = _next(app_client, pid, token)
    uid2, token2 = make_user()
    add_member(pid, uid2)
    url = path.format(aid=a["id"])
    if path.endswith("}"):
        r = app_client.get(url, headers=auth(token2))
    else:
        r = app_client.post(url, json={"answer": {"choice": "a"}} if "label" in url else {}, headers=auth(token2))
    assert r.status_code == 404


def test_annotators_see_only_their_own_labels_and_projects(app_client: httpx.Client) -> None:
    pid, token = _setup("pairwise")
    a = _next(app_client, pid, token)
    label = _label(app_client, a["id"], token, {"answer": {"choice": "a"}}).json()
    uid2, token2 = make_user()
    add_member(pid, uid2)
    mine = app_client.get(f"/api/projects/{pid}/labels/mine", headers=auth(token2)).json()
    assert mine["items"] == []
    r = app_client.patch(f"/api/labels/{label['id']}", json={"answer": {"choice": "b"}}, headers=auth(token2))
    assert r.status_code == 404
    assert app_client.get(f"/api/projects/{pid}/progress/annotators", headers=auth(token2)).status_code == 403
    me = app_client.get(f"/api/projects/{pid}/progress/me", headers=auth(token)).json()
    assert me["labels"] == 1 and me["labels_today"] == 1
    # Another project's data is invisible: 404, not 403, so its existence does not leak.
    other = make_project(task_kind="pairwise")
    for url in (f"/api/projects/{other}", f"/api/projects/{other}/progress", f"/api/projects/{other}/labels/mine"):
        assert app_client.get(url, headers=auth(token)).status_code == 404
    assert app_client.post(f"/api/projects/{other}/next", headers=auth(token)).status_code == 404
    assert [p["id"] for p in app_client.get("/api/projects", headers=auth(token)).json()] == [pid]


def test_managers_edit_projects_and_members_annotators_cannot(app_client: httpx.Client) -> None:
    pid, annotator = _setup("pairwise", overlap=1)
    uid_m, manager = make_user()
    add_member(pid, uid_m, ProjectRole.manager)
    assert app_client.patch(f"/api/projects/{pid}", json={"overlap": 3}, headers=auth(annotator)).status_code == 403
    r = app_client.patch(f"/api/projects/{pid}", json={"overlap": 3, "guidelines": "# Be kind"}, headers=auth(manager))
    assert r.status_code == 200 and r.json()["overlap"] == 3
    with session_scope(write=False) as s:
        assert set(s.scalars(select(Item.open_slots).where(Item.project_id == pid))) == {3}
    members = app_client.get(f"/api/projects/{pid}/members", headers=auth(manager)).json()
    assert {m["role"] for m in members} == {"annotator", "manager"}
    uid3, _ = make_user(username="newcomer")
    r = app_client.put(
        f"/api/projects/{pid}/members", json={"username": "newcomer", "role": "reviewer"}, headers=auth(manager)
    )
    assert r.status_code == 200 and r.json()["role"] == "reviewer"
    assert app_client.delete(f"/api/projects/{pid}/members/{uid3}", headers=auth(annotator)).status_code == 403
    assert app_client.delete(f"/api/projects/{pid}/members/{uid3}", headers=auth(manager)).status_code == 204
    annotators = app_client.get(f"/api/projects/{pid}/progress/annotators", headers=auth(manager))
    assert annotators.status_code == 200


def test_project_settings_are_validated(app_client: httpx.Client) -> None:
    _, admin = make_user(__import__("app.auth.models", fromlist=["GlobalRole"]).GlobalRole.admin)
    bad = [
        ({"name": "x", "task_kind": "pairwise", "candidates_per_item": 3}, "candidates_per_item"),
        ({"name": "x", "task_kind": "ranking", "candidates_per_item": 2}, "at least 3"),
        ({"name": "x", "task_kind": "rating", "criteria": [{"name": "a", "min": 3, "max": 1}]}, "max must be greater"),
        ({"name": "x", "task_kind": "pairwise", "overlap": 0}, "overlap"),
        ({"name": "x", "task_kind": "pairwise", "gold_ratio": 0.9}, "gold_ratio"),
        ({"name": "x", "task_kind": "sorting"}, "task_kind"),
    ]
    for body, needle in bad:
        r = app_client.post("/api/projects", json=body, headers=auth(admin))
        assert r.status_code == 422 and needle in r.text, (body, r.text)
    r = app_client.post("/api/projects", json={"name": "ok", "task_kind": "rating"}, headers=auth(admin))
    assert r.status_code == 201 and r.json()["criteria"][0]["name"] == "overall"
    assert (
        app_client.post("/api/projects", json={"name": "ok", "task_kind": "rating"}, headers=auth(admin)).status_code
        == 409
    )
