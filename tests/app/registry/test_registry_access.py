"""Who reads the model registry: admins, and the reviewers and managers of a project; not annotators."""

from __future__ import annotations

import httpx

from app.auth.models import GlobalRole
from app.db import session_scope
from app.projects.models import ProjectRole
from app.registry.models import ModelKind, ModelStatus, ModelVersion
from tests.factories import add_member, auth, make_project, make_user


def test_annotators_get_403_and_project_staff_read_the_registry(app_client: httpx.Client) -> None:
    with session_scope() as s:
        version = ModelVersion(
            name="rm-1", kind=ModelKind.reward, status=ModelStatus.ready, source="x", metrics={}, info={}
        )
        s.add(version)
        s.flush()
        version_id = version.id
    project_id = make_project()
    callers = {}
    for role in (ProjectRole.annotator, ProjectRole.reviewer, ProjectRole.manager):
        user_id, token = make_user()
        add_member(project_id, user_id, role)
        callers[role] = token
    _, admin = make_user(GlobalRole.admin)
    _, outsider = make_user()

    for token in (callers[ProjectRole.annotator], outsider):
        for path in ("/api/models", f"/api/models/{version_id}"):
            r = app_client.get(path, headers=auth(token))
            assert r.status_code == 403 and "model registry" in r.json()["detail"], r.text
    for token in (callers[ProjectRole.reviewer], callers[ProjectRole.manager], admin):
        assert [v["name"] for v in app_client.get("/api/models", headers=auth(token)).json()] == ["rm-1"]
        assert app_client.get(f"/api/models/{version_id}", headers=auth(token)).json()["id"] == version_id
