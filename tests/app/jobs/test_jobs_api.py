"""Jobs over REST without a worker: validation, access, enqueue-after-commit, cancel of a queued job."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from app.auth.models import GlobalRole
from app.db import session_scope
from app.jobs import broker
from app.jobs.kinds import JobKind
from app.jobs.service import create_job
from app.projects.models import ProjectRole
from tests.factories import add_member, auth, make_project, make_user


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[broker.TaskMessage]]:
    messages: list[broker.TaskMessage] = []
    monkeypatch.setattr(broker, "sender", messages.append)
    monkeypatch.setattr(broker, "revoke", lambda task_id: None)
    yield messages


def test_created_job_is_sent_after_commit_by_name_with_its_id(app_client: httpx.Client, sent: list) -> None:
    _, admin = make_user(GlobalRole.admin)
    r = app_client.post("/api/jobs", json={"kind": "smoke", "params": {"steps": 3}}, headers=auth(admin))
    assert r.status_code == 201, r.text
    job = r.json()
    assert job["state"] == "queued" and job["params"]["steps"] == 3 and job["params"]["step_seconds"] == 0.1
    assert [(m.task_name, m.queue, m.job_id) for m in sent] == [("prefloop.smoke", "cpu", job["id"])]


def test_a_rolled_back_transaction_enqueues_nothing(engine: object, sent: list) -> None:
    with pytest.raises(RuntimeError), session_scope() as s:
        create_job(s, JobKind.smoke, {"steps": 1}, project_id=None, created_by=None)
        raise RuntimeError("the request failed after creating the job")
    assert sent == []
    with session_scope() as s:
        create_job(s, JobKind.smoke, {"steps": 1}, project_id=None, created_by=None)
        assert sent == []  # not before the commit
    assert len(sent) == 1


def test_params_are_validated_per_kind(app_client: httpx.Client, sent: list) -> None:
    _, admin = make_user(GlobalRole.admin)
    r = app_client.post("/api/jobs", json={"kind": "smoke", "params": {"steps": 0}}, headers=auth(admin))
    assert r.status_code == 422 and r.json()["field"] == "params.steps"
    r = app_client.post("/api/jobs", json={"kind": "smoke", "params": {"nope": 1}}, headers=auth(admin))
    assert r.status_code == 422 and r.json()["field"] == "params.nope"
    r = app_client.post(
        "/api/jobs", json={"kind": "generation", "params": {"model_version_id": 1}}, headers=auth(admin)
    )
    assert r.status_code == 422 and r.json()["field"] == "project_id"
    r = app_client.post("/api/jobs", json={"kind": "teleport"}, headers=auth(admin))
    assert r.status_code == 422
    assert sent == []


def test_cancel_of_a_queued_job_is_immediate(app_client: httpx.Client, sent: list) -> None:
    _, admin = make_user(GlobalRole.admin)
    job = app_client.post("/api/jobs", json={"kind": "smoke"}, headers=auth(admin)).json()
    r = app_client.post(f"/api/jobs/{job['id']}/cancel", headers=auth(admin))
    assert r.status_code == 200 and r.json()["state"] == "cancelled" and r.json()["finished_at"]
    assert app_client.post(f"/api/jobs/{job['id']}/cancel", headers=auth(admin)).status_code == 409


def test_job_access_follows_project_roles(app_client: httpx.Client, sent: list) -> None:
    pid = make_project(task_kind="pairwise")
    uid_m, manager = make_user()
    add_member(pid, uid_m, ProjectRole.manager)
    uid_a, annotator = make_user()
    add_member(pid, uid_a)
    body = {"kind": "generation", "project_id": pid, "params": {"model_version_id": 1}}
    assert app_client.post("/api/jobs", json=body, headers=auth(annotator)).status_code == 403
    job = app_client.post("/api/jobs", json=body, headers=auth(manager))
    assert job.status_code == 201
    jid = job.json()["id"]
    assert app_client.get(f"/api/jobs/{jid}", headers=auth(annotator)).status_code == 403
    assert app_client.get(f"/api/jobs/{jid}/logs", headers=auth(manager)).status_code == 200
    assert [j["id"] for j in app_client.get("/api/jobs", headers=auth(manager)).json()["items"]] == [jid]
    assert app_client.get("/api/jobs", headers=auth(annotator)).json()["items"] == []
    # Jobs outside a project are admin-only.
    assert app_client.post("/api/jobs", json={"kind": "smoke"}, headers=auth(manager)).status_code == 403
