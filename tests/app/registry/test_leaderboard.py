"""The leaderboard: Bradley-Terry on hand-made comparisons, and from human labels over REST."""

from __future__ import annotations

import math

import httpx

from app.auth.models import GlobalRole
from app.db import session_scope
from app.prompts.models import Candidate
from app.registry.leaderboard import Comparison, bradley_terry
from app.registry.models import ModelKind, ModelStatus, ModelVersion
from tests.factories import add_member, add_prompts, auth, make_project, make_user


def test_bradley_terry_matches_the_closed_form_for_two_players() -> None:
    # Equal records give equal strengths; 3 wins to 1 a higher one for the winner, at the MM fixed point.
    even = bradley_terry([Comparison(1, 2, False), Comparison(2, 1, False)], [1, 2])
    assert abs(even[1] - even[2]) < 1e-9
    fit = bradley_terry([Comparison(1, 2, False)] * 3 + [Comparison(2, 1, False)], [1, 2])
    assert fit[1] > 0 > fit[2] and abs(fit[1] + fit[2]) < 1e-9
    # Fixed point: wins_1 = 3 + 1 (two virtual half-won ties) = 4 games vs 2 p1/(p1+p2) + 2 virtual p1/(p1+1).
    p1, p2 = math.exp(fit[1]), math.exp(fit[2])
    assert abs(4.0 - (4 * p1 / (p1 + p2) + 2 * p1 / (p1 + 1))) < 1e-6
    ties = bradley_terry([Comparison(1, 2, True)] * 5, [1, 2])
    assert abs(ties[1]) < 1e-9


def test_leaderboard_ranks_versions_by_human_preferences(app_client: httpx.Client) -> None:
    admin_id, admin = make_user(GlobalRole.admin)
    with session_scope() as s:
        versions = []
        for name in ("old", "new"):
            v = ModelVersion(
                name=name, kind=ModelKind.policy, status=ModelStatus.ready, source="x", metrics={}, info={}
            )
            s.add(v)
            s.flush()
            versions.append(v.id)
    pid = make_project(task_kind="pairwise", created_by=admin_id)
    add_prompts(pid, 10, 2)
    with session_scope() as s:  # candidate j of each prompt came from version j ("Answer i.1" is new's)
        for c in s.query(Candidate).filter(Candidate.project_id == pid):
            c.model_version_id = versions[int(c.text.rsplit(".", 1)[1])]
    uid, token = make_user()
    add_member(pid, uid)
    n = 0
    while (r := app_client.post(f"/api/projects/{pid}/next", headers=auth(token))).status_code == 200:
        a = r.json()
        texts = [c["text"] for c in a["item"]["candidates"]]
        prefer_new = n < 8  # new wins 8 of 10
        want = ".1" if prefer_new else ".0"
        choice = "a" if texts[0].endswith(want) else "b"
        app_client.post(f"/api/assignments/{a['id']}/label", json={"answer": {"choice": choice}}, headers=auth(token))
        n += 1
    board = app_client.get("/api/models/leaderboard", headers=auth(admin)).json()
    assert [e["name"] for e in board] == ["new", "old"]
    new, old = board
    assert (new["wins"], new["losses"], new["comparisons"]) == (8, 2, 10)
    assert new["ci_low"] <= new["rating"] <= new["ci_high"] and new["rating"] > 1000 > old["rating"]
    assert app_client.get("/api/models/leaderboard", params={"project_id": pid}, headers=auth(admin)).json() == board
