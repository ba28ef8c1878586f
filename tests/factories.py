"""Test data made through the service layer (fast) and helpers to act as a user over HTTP."""

from __future__ import annotations

import itertools
from typing import Any

from app.annotation.items import build_items
from app.auth import service as auth_service
from app.auth.models import GlobalRole
from app.auth.schemas import UserCreate
from app.db import session_scope
from app.projects import service as project_service
from app.projects.models import Project, ProjectRole
from app.projects.schemas import MemberUpsert, ProjectCreate
from app.prompts.models import Candidate, Prompt

_counter = itertools.count(1)
PASSWORD = "correct-horse-battery"


def make_user(role: GlobalRole = GlobalRole.user, username: str | None = None) -> tuple[int, str]:
    """Create a user and an API token; returns (user_id, token)."""
    name = username or f"user{next(_counter)}"
    with session_scope() as s:
        user = auth_service.create_user(s, UserCreate(username=name, password=PASSWORD, role=role))
        _, token = auth_service.create_token(s, user.id, "test")
        return user.id, token


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def make_project(**fields: Any) -> int:
    admin_id = fields.pop("created_by", None)
    with session_scope() as s:
        if admin_id is None:
            admin_id = auth_service.create_user(
                s, UserCreate(username=f"owner{next(_counter)}", password=PASSWORD, role=GlobalRole.admin)
            ).id
        data = ProjectCreate(**{"name": f"project {next(_counter)}", "task_kind": "pairwise", **fields})
        return project_service.create_project(s, data, created_by=admin_id).id


def add_member(project_id: int, user_id: int, role: ProjectRole = ProjectRole.annotator) -> None:
    with session_scope() as s:
        project_service.upsert_member(s, project_id, MemberUpsert(user_id=user_id, role=role))


def add_prompts(project_id: int, n_prompts: int, candidates_per_prompt: int) -> None:
    """Prompts with candidates, then items, as an import would make them."""
    with session_scope() as s:
        project = s.get(Project, project_id)
        assert project is not None
        prompt_ids = []
        for i in range(n_prompts):
            prompt = Prompt(project_id=project_id, external_id=f"p{i}", text=f"Prompt {i}?", meta={})
            s.add(prompt)
            s.flush()
            prompt_ids.append(prompt.id)
            for j in range(candidates_per_prompt):
                s.add(Candidate(project_id=project_id, prompt_id=prompt.id, text=f"Answer {i}.{j}", source={}, meta={}))
        s.flush()
        build_items(s, project, prompt_ids)
