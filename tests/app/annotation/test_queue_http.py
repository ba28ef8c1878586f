"""The annotator's loop over HTTP: next, label, skip, idempotency, access."""

from __future__ import annotations

import httpx

from tests.factories import add_member, add_prompts, auth, make_project, make_user


def test_pairwise_loop_labels_each_item_once_per_annotator(app_client: httpx.Client) -> None:
    project_id = make_project(task_kind="pairwise", overlap=2)
    add_prompts(project_id, n_prompts=3, candidates_per_prompt=2)
    uid, token = make_user()
    add_member(project_id, uid)
    seen = []
    while True:
        r = app_client.post(f"/api/projects/{project_id}/next", headers=auth(token))
        if r.status_code == 204:
            break
        assert r.status_code == 200, r.text
        a = r.json()
        assert len(a["item"]["candidates"]) == 2
        seen.append(a["item"]["id"])
        r = app_client.post(
            f"/api/assignments/{a['id']}/label",
            json={"answer": {"choice": "a", "strength": 2}},
            headers=auth(token),
        )
        assert r.status_code == 201, r.text
        # A retried submit does not make a second label.
        r2 = app_client.post(
            f"/api/assignments/{a['id']}/label",
            json={"answer": {"choice": "a", "strength": 2}},
            headers=auth(token),
        )
        assert r2.status_code == 200 and r2.json()["id"] == r.json()["id"]
    assert len(seen) == 3 and len(set(seen)) == 3
    progress = app_client.get(f"/api/projects/{project_id}/progress", headers=auth(token)).json()
    assert progress["labels"] == 3 and progress["labels_needed"] == 6 and progress["completion"] == 0.5
