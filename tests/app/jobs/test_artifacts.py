"""The artifact store: atomic writes, directory commits, authorised downloads, no path traversal."""

from __future__ import annotations

import httpx
import pytest

from app.artifacts import store
from app.auth.models import GlobalRole
from app.db import session_scope
from app.errors import InvalidInput
from app.jobs.kinds import JobKind
from app.jobs.service import create_job
from app.projects.models import ProjectRole
from tests.factories import add_member, auth, make_project, make_user


def _job(project_id: int | None = None) -> int:
    with session_scope() as s:
        kind = JobKind.generation if project_id else JobKind.smoke
        params = {"model_version_id": 1} if project_id else {}
        return create_job(s, kind, params, project_id=project_id, created_by=None).id


def test_writes_are_atomic_and_staging_is_hidden(engine: object) -> None:
    jid = _job()
    store.write_bytes(jid, "metrics/summary.json", b'{"ok": true}')
    staged = store.staging_dir(jid, "checkpoint")
    (staged / "model.bin").write_bytes(b"weights")
    assert [p for p, _ in store.list_files(jid)] == ["metrics/summary.json"]  # half-written dir invisible
    store.commit_dir(jid, staged, "checkpoint")
    assert [p for p, _ in store.list_files(jid)] == ["checkpoint/model.bin", "metrics/summary.json"]
    staged2 = store.staging_dir(jid, "checkpoint")
    (staged2 / "model.bin").write_bytes(b"weights v2")
    store.commit_dir(jid, staged2, "checkpoint")
    assert (store.job_dir(jid) / "checkpoint" / "model.bin").read_bytes() == b"weights v2"


@pytest.mark.parametrize("bad", ["../secret", "/etc/passwd", "a/../../b", "a/../../../etc/passwd", ""])
def test_paths_never_leave_the_job_folder(engine: object, bad: str) -> None:
    with pytest.raises(InvalidInput):
        store.safe_path(1, bad)


def test_downloads_are_authorised(app_client: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.jobs import broker

    monkeypatch.setattr(broker, "sender", lambda msg: None)
    pid = make_project(task_kind="pairwise")
    jid = _job(pid)
    store.write_bytes(jid, "out/data.jsonl", b'{"a": 1}\n')
    (store.root() / "secret.txt").write_text("top secret")
    uid_m, manager = make_user()
    add_member(pid, uid_m, ProjectRole.manager)
    uid_a, annotator = make_user()
    add_member(pid, uid_a)
    _, admin = make_user(GlobalRole.admin)
    r = app_client.get(f"/api/jobs/{jid}/artifacts/out/data.jsonl", headers=auth(manager))
    assert r.status_code == 200 and r.content == b'{"a": 1}\n'
    assert app_client.get(f"/api/jobs/{jid}/artifacts", headers=auth(manager)).json() == [
        {"path": "out/data.jsonl", "size": 9}
    ]
    assert app_client.get(f"/api/jobs/{jid}/artifacts/out/data.jsonl", headers=auth(annotator)).status_code == 403
    for sneaky in ("..%2F..%2Fsecret.txt", "%2E%2E/%2E%2E/secret.txt", "out/../../../secret.txt"):
        r = app_client.get(f"/api/jobs/{jid}/artifacts/{sneaky}", headers=auth(admin))
        assert r.status_code in (404, 422) and "top secret" not in r.text
    assert app_client.get(f"/api/jobs/{jid}/artifacts/out/missing.txt", headers=auth(admin)).status_code == 404
