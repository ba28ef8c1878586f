"""Quality endpoints for ratings and rankings, gold import and unmarking, and re-queueing items."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from app.annotation.models import Item
from app.auth.models import GlobalRole
from app.db import session_scope
from app.quality import metrics
from tests.factories import add_member, add_prompts, auth, make_project, make_user


def _label_all(client: httpx.Client, token: str, pid: int, answer_for: Any) -> int:
    n = 0
    while (r := client.post(f"/api/projects/{pid}/next", headers=auth(token))).status_code == 200:
        a = r.json()
        answer = answer_for([c["text"] for c in a["item"]["candidates"]], [c["id"] for c in a["item"]["candidates"]])
        assert (
            client.post(f"/api/assignments/{a['id']}/label", json={"answer": answer}, headers=auth(token)).status_code
            == 201
        )
        n += 1
    return n


def _prompt_no(text: str) -> int:
    return int(text.split()[1].split(".")[0])


def test_rating_report_has_krippendorff_alpha_per_criterion(app_client: httpx.Client) -> None:
    admin_id, admin = make_user(GlobalRole.admin)
    criteria = [{"name": "helpful", "min": 1, "max": 5}, {"name": "safe", "min": 0, "max": 1}]
    pid = make_project(task_kind="rating", overlap=2, criteria=criteria, created_by=admin_id)
    add_prompts(pid, 4, 1)
    # Annotator 1 scores helpful = prompt + 1; annotator 2 the same except prompt 3 (gives 1).
    scores = {1: {}, 2: {}}
    for n in (1, 2):
        uid, token = make_user()
        add_member(pid, uid)

        def answer(texts: list[str], _ids: list[int], n: int = n) -> dict[str, Any]:
            p = _prompt_no(texts[0])
            helpful = 1 if (n == 2 and p == 3) else p + 1
            scores[n][p] = helpful
            return {"scores": {"helpful": helpful, "safe": 1}}

        assert _label_all(app_client, token, pid, answer) == 4
    report = app_client.get(f"/api/projects/{pid}/quality", headers=auth(admin)).json()
    alpha = {m["criterion"]: m["value"] for m in report["metrics"] if m["name"] == "krippendorff_alpha"}
    units = [[scores[1][p], scores[2][p]] for p in range(4)]
    assert alpha["helpful"] == metrics.krippendorff_alpha(units, "ordinal", value_domain=list(range(1, 6)))
    assert alpha["safe"] is None  # everyone said 1: no variation, alpha undefined
    pct = {m["criterion"]: m["value"] for m in report["metrics"] if m["name"] == "percent_agreement"}
    assert pct == {"helpful": 0.75, "safe": 1.0}


def test_ranking_report_has_kendall_w_and_tau(app_client: httpx.Client) -> None:
    admin_id, admin = make_user(GlobalRole.admin)
    pid = make_project(task_kind="ranking", candidates_per_item=3, overlap=2, created_by=admin_id)
    add_prompts(pid, 2, 3)
    for reverse in (False, True):
        uid, token = make_user()
        add_member(pid, uid)

        def answer(texts: list[str], ids: list[int], reverse: bool = reverse) -> dict[str, Any]:
            order = [cid for _, cid in sorted(zip(texts, ids, strict=True), reverse=reverse)]
            return {"order": [[c] for c in order]}

        _label_all(app_client, token, pid, answer)
    report = app_client.get(f"/api/projects/{pid}/quality", headers=auth(admin)).json()
    by_name = {m["name"]: m["value"] for m in report["metrics"]}
    # Opposite full orders: W = 0 (rank sums all equal 4), tau = -1.
    assert by_name == {"kendall_w": 0.0, "kendall_tau_b": -1.0}
    assert report["mean_item_agreement"] == 0.0


def test_gold_import_is_all_or_nothing_and_unmarking_reopens_the_item(app_client: httpx.Client) -> None:
    admin_id, admin = make_user(GlobalRole.admin)
    h = auth(admin)
    pid = make_project(task_kind="pairwise", overlap=2, created_by=admin_id)
    add_prompts(pid, 3, 2)
    ids = [i["id"] for i in app_client.get(f"/api/projects/{pid}/items", headers=h).json()["items"]]
    bad = app_client.post(
        f"/api/projects/{pid}/gold",
        json={
            "items": [{"item_id": ids[0], "answer": {"choice": "a"}}, {"item_id": ids[1], "answer": {"choice": "x"}}]
        },
        headers=h,
    )
    assert (
        bad.status_code == 422
        and bad.json()["field"].startswith("items.1")
        and f"item {ids[1]}" in bad.json()["detail"]
    )
    assert app_client.get(f"/api/projects/{pid}/items", params={"gold": True}, headers=h).json()["items"] == []
    ok = app_client.post(
        f"/api/projects/{pid}/gold", json={"items": [{"item_id": ids[0], "answer": {"choice": "b"}}]}, headers=h
    )
    assert ok.json() == {"marked": 1}
    with session_scope(write=False) as s:
        item = s.get(Item, ids[0])
        assert item is not None and item.is_gold and item.open_slots == 0
    back = app_client.delete(f"/api/projects/{pid}/items/{ids[0]}/gold", headers=h).json()
    assert back["is_gold"] is False and back["gold_answer"] is None
    with session_scope(write=False) as s:
        assert s.scalar(select(Item.open_slots).where(Item.id == ids[0])) == 2


def test_low_agreement_items_go_back_for_more_labels(app_client: httpx.Client) -> None:
    admin_id, admin = make_user(GlobalRole.admin)
    h = auth(admin)
    pid = make_project(task_kind="pairwise", overlap=2, created_by=admin_id)
    add_prompts(pid, 2, 2)
    for choice in ("a", "b"):
        uid, token = make_user()
        add_member(pid, uid)
        # Both disagree on prompt 0 only.
        _label_all(
            app_client, token, pid, lambda texts, _ids, c=choice: {"choice": c if _prompt_no(texts[0]) == 0 else "a"}
        )
    r = app_client.post(f"/api/projects/{pid}/items/requeue", json={"max_agreement": 0.5, "extra_labels": 1}, headers=h)
    assert r.json()["requeued"] == 1
    uid, token = make_user()
    add_member(pid, uid)
    assert _label_all(app_client, token, pid, lambda texts, _ids: {"choice": "a"}) == 1
