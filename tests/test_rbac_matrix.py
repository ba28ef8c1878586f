"""Access control, checked for every operation of the OpenAPI schema, and an identity/label-leak test.

``TABLE`` names, for every operation (``"METHOD /path/template"``), the least access it needs:

- ``public``: anyone, logged in or not;
- ``user``: any logged-in user;
- ``self``: only the owner of the resource in the path (their assignment, label or API token); not even an
  admin or the project's manager may act on it;
- ``annotator`` / ``reviewer`` / ``manager``: that role (or a higher one) in the project the resource belongs
  to; a global admin passes every project check;
- ``staff``: global admins, and users who review or manage some project (P's reviewer and manager here),
  for what is instance-wide but made from projects' data (the model registry); others get 403;
- ``admin``: global admins only.

``test_table_covers_every_operation`` fails, naming it, for an operation of the schema without an entry
(and for a stale entry, and for a body-taking operation whose entry sends no body).

The matrix (``test_access_matrix``, one test per operation) builds a world with direct inserts and the
service layer: project P (pairwise, overlap 3, four prompts of two candidates, one gold item), project Q;
annotator A (the ``annotator`` principal) with a submitted label (carrying a unique rationale marker), an
open lease and a spare API token; a second annotator B labelling the same item; an adjudication; a queued
job with a log line, a metric and an artifact file; two model versions; a snapshot (built for real where
the operation reads its files). Path parameters are filled with P's objects (``DEFAULT_PATH``, or the
entry's ``path`` overrides), bodies are valid for the operation (the entry's ``body``/``files``), and
each of the six principals calls it with an API token (no CSRF involved):

    anonymous, other (annotator of Q only), annotator (A, owner of the assignment/label/token in the
    path), reviewer of P, manager of P, admin (global, not a member of P)

Outcome rule:

- a denied principal never gets a 2xx: anonymous gets exactly 401; an authenticated principal gets 403 or
  404, and a non-member of P (``other``) gets 404 for anything of P's (a project is not revealed to
  outsiders);
- an allowed principal gets a 2xx: never 401/403/404, never 409/422 (the body is valid and the state is
  set up for the call to succeed), never 5xx;
- ``anonymous`` and ``other`` never see A's username, display name or rationale marker in any response.

Denied principals run first, on one world (a denied call changes nothing, and a call that does is
reported). For reads the allowed principals share that world too; for writes each allowed principal after
the first gets a fresh world, so a delete or a member removal by one cannot turn the next one's call
into a 404 or 409. All failures of an operation are reported together.

The leak test (``test_annotator_never_sees_another_annotators_work``) calls every GET operation of the
schema (and ``POST .../next``, the annotator's feed) as annotator B, with A's assignment, A's label's item
and so on in the path (and B's own assignment where the path takes one), and asserts that no response
names A (username, display name, or A's id in a user-identifying field), carries A's rationale marker, or
contains A's label or assignment. A reviewer, who may see labels, does see them (a control that the
markers would be found).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from app.annotation import labeling, queue
from app.annotation.items import build_items
from app.annotation.models import Assignment, Item
from app.annotation.schemas import LabelSubmit
from app.artifacts import store
from app.auth import service as auth_service
from app.auth.models import GlobalRole, User
from app.auth.security import hash_password
from app.datasets.builder import build_snapshot
from app.datasets.models import Snapshot, SnapshotStatus
from app.datasets.service import SNAPSHOT_DIR
from app.datasets.spec import SnapshotSpec
from app.db import session_scope, utcnow
from app.jobs import broker
from app.jobs.models import Job, JobLog, JobMetric
from app.jobs.states import JobState
from app.projects import service as project_service
from app.projects.access import ProjectAccess
from app.projects.models import ProjectMember, ProjectRole
from app.projects.schemas import ProjectCreate
from app.prompts.models import Candidate, Prompt
from app.quality import review
from app.quality.models import Adjudication
from app.registry.models import ModelKind, ModelStatus, ModelVersion
from tests.factories import PASSWORD, auth

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class Access(StrEnum):
    public = "public"
    user = "user"
    self_ = "self"
    annotator = "annotator"
    reviewer = "reviewer"
    manager = "manager"
    staff = "staff"
    admin = "admin"


PRINCIPALS = ("anonymous", "other", "annotator", "reviewer", "manager", "admin")
"""In the order they are tried (denied ones first, then the allowed ones in this order)."""

ALLOWED: dict[Access, frozenset[str]] = {
    Access.public: frozenset(PRINCIPALS),
    Access.user: frozenset(PRINCIPALS) - {"anonymous"},
    Access.self_: frozenset({"annotator"}),
    Access.annotator: frozenset({"annotator", "reviewer", "manager", "admin"}),
    Access.reviewer: frozenset({"reviewer", "manager", "admin"}),
    Access.manager: frozenset({"manager", "admin"}),
    Access.staff: frozenset({"reviewer", "manager", "admin"}),
    Access.admin: frozenset({"admin"}),
}
PROJECT_SCOPED = frozenset({Access.self_, Access.annotator, Access.reviewer, Access.manager})
"""Access levels that concern an object of P: a non-member must get 404 for them, not 403."""


# --- the world ------------------------------------------------------------------------------------------


@dataclass
class World:
    suffix: str
    tokens: dict[str, str | None]
    annotator_id: int
    annotator_username: str
    annotator_display: str
    b_id: int
    b_token: str
    outsider_id: int
    marker: str
    project_id: int
    other_project_id: int
    prompt_id: int
    item_id: int
    """A non-gold item labelled by A and B, with an adjudication."""
    lease_item_id: int
    free_item_id: int
    gold_item_id: int
    assignment_id: int
    """A's submitted assignment of ``item_id``."""
    lease_id: int
    """A's open lease (of ``lease_item_id``)."""
    label_id: int
    b_assignment_id: int
    b_label_id: int
    spare_token_id: int
    job_id: int
    artifact_path: str
    model_id: int
    snapshot_id: int


@lru_cache(maxsize=1)
def _password_hash() -> str:
    return hash_password(PASSWORD)  # once: argon2 is deliberately slow


def build_world(*, ready_snapshot: bool = False) -> World:
    suffix = uuid.uuid4().hex[:10]
    now = utcnow()
    with session_scope() as s:

        def user(name: str, role: GlobalRole = GlobalRole.user, display: str = "") -> User:
            u = User(username=name, display_name=display or name, password_hash=_password_hash(), role=role)
            s.add(u)
            return u

        admin = user(f"admin_{suffix}", GlobalRole.admin)
        alice = user(f"alice_{suffix}", display=f"Alice Display {suffix}")
        bob = user(f"bob_{suffix}")
        reviewer = user(f"reviewer_{suffix}")
        manager = user(f"manager_{suffix}")
        other = user(f"other_{suffix}")
        outsider = user(f"outsider_{suffix}")
        s.flush()
        tokens: dict[str, str | None] = {"anonymous": None}
        for name, u in (
            ("admin", admin),
            ("annotator", alice),
            ("reviewer", reviewer),
            ("manager", manager),
            ("other", other),
        ):
            tokens[name] = auth_service.create_token(s, u.id, "matrix")[1]
        _, b_token = auth_service.create_token(s, bob.id, "matrix")
        spare, _ = auth_service.create_token(s, alice.id, "spare")

        models = [
            ModelVersion(
                name=f"model-{n}-{suffix}",
                kind=ModelKind.base,
                status=ModelStatus.ready,
                source=f"org/model-{n}",
                metrics={},
                info={},
                created_by=admin.id,
            )
            for n in (1, 2)
        ]
        s.add_all(models)
        p = project_service.create_project(
            s, ProjectCreate(name=f"P {suffix}", task_kind="pairwise", overlap=3), created_by=admin.id
        )
        q = project_service.create_project(
            s, ProjectCreate(name=f"Q {suffix}", task_kind="pairwise"), created_by=admin.id
        )
        for u, project_id, role in (
            (alice, p.id, ProjectRole.annotator),
            (bob, p.id, ProjectRole.annotator),
            (reviewer, p.id, ProjectRole.reviewer),
            (manager, p.id, ProjectRole.manager),
            (other, q.id, ProjectRole.annotator),
        ):
            s.add(ProjectMember(project_id=project_id, user_id=u.id, role=role, paused=False))
        s.flush()

        prompt_ids = []
        for i in range(4):
            prompt = Prompt(project_id=p.id, external_id=f"p{i}", text=f"Prompt {i}?", meta={})
            s.add(prompt)
            s.flush()
            prompt_ids.append(prompt.id)
            for j, m in enumerate(models):
                s.add(
                    Candidate(
                        project_id=p.id,
                        prompt_id=prompt.id,
                        text=f"Answer {i}.{j}",
                        source={},
                        meta={},
                        model_version_id=m.id,
                    )
                )
        s.flush()
        build_items(s, p, prompt_ids)
        items = list(s.scalars(select(Item).where(Item.project_id == p.id).order_by(Item.id)))
        gold = items[-1]
        review.mark_gold(s, p, gold, {"choice": "a", "strength": 2})

        marker = f"rationale-marker-{suffix}"

        def lease(uid: int) -> Assignment:
            access = ProjectAccess(p, ProjectRole.annotator, False)
            a = queue.next_assignment(s, access, uid, now)
            assert a is not None
            return a

        a_assignment = lease(alice.id)
        a_label, _ = labeling.submit_label(
            s,
            p,
            a_assignment,
            LabelSubmit(answer={"choice": "a", "strength": 3}, rationale=marker, time_spent_ms=1234),
            now,
        )
        b_assignment = lease(bob.id)
        assert b_assignment.item_id == a_assignment.item_id
        b_label, _ = labeling.submit_label(
            s, p, b_assignment, LabelSubmit(answer={"choice": "b", "strength": 1}, rationale="bob's own"), now
        )
        a_lease = lease(alice.id)
        free = next(i for i in items if i.id not in (a_assignment.item_id, a_lease.item_id, gold.id))
        s.add(
            Adjudication(
                project_id=p.id,
                item_id=a_assignment.item_id,
                answer={"choice": "a", "strength": 1},
                note="decided",
                reviewer_id=reviewer.id,
            )
        )

        job = Job(
            kind="smoke",
            state=JobState.queued,
            project_id=p.id,
            params={"steps": 1, "step_seconds": 0.1, "queue": "cpu", "fail_at": None},
            result={},
            created_by=manager.id,
            task_id=uuid.uuid4().hex,
            attempts=0,
            progress_done=0,
            cancel_requested=False,
            heartbeat_at=now,
        )
        snap_job = Job(
            kind="snapshot",
            state=JobState.succeeded,
            project_id=p.id,
            params={},
            result={},
            created_by=manager.id,
            task_id=uuid.uuid4().hex,
            attempts=1,
            progress_done=0,
            cancel_requested=False,
            finished_at=now,
        )
        s.add_all([job, snap_job])
        s.flush()
        s.add(JobLog(job_id=job.id, level="info", message="step 1"))
        s.add(JobMetric(job_id=job.id, name="loss", step=1, value=0.5))
        snapshot = Snapshot(
            project_id=p.id,
            name=f"snapshot {suffix}",
            spec=SnapshotSpec().model_dump(mode="json"),
            status=SnapshotStatus.building,
            counts={},
            created_by=manager.id,
            job_id=snap_job.id,
        )
        s.add(snapshot)
        s.flush()
        snap_job.params = {"snapshot_id": snapshot.id}
        if ready_snapshot:
            staged = store.staging_dir(snap_job.id, SNAPSHOT_DIR)
            result = build_snapshot(s, snapshot, staged)
            store.commit_dir(snap_job.id, staged, SNAPSHOT_DIR)
            s.execute(
                update(Snapshot)
                .where(Snapshot.id == snapshot.id)
                .values(
                    status=SnapshotStatus.ready,
                    content_hash=result.content_hash,
                    counts=result.counts,
                    finished_at=now + timedelta(seconds=1),
                )
            )
        artifact_path = "out/report.txt"
        store.write_bytes(job.id, artifact_path, b"a report\n")
        return World(
            suffix=suffix,
            tokens=tokens,
            annotator_id=alice.id,
            annotator_username=alice.username,
            annotator_display=alice.display_name,
            b_id=bob.id,
            b_token=b_token,
            outsider_id=outsider.id,
            marker=marker,
            project_id=p.id,
            other_project_id=q.id,
            prompt_id=prompt_ids[0],
            item_id=a_assignment.item_id,
            lease_item_id=a_lease.item_id,
            free_item_id=free.id,
            gold_item_id=gold.id,
            assignment_id=a_assignment.id,
            lease_id=a_lease.id,
            label_id=a_label.id,
            b_assignment_id=b_assignment.id,
            b_label_id=b_label.id,
            spare_token_id=spare.id,
            job_id=job.id,
            artifact_path=artifact_path,
            model_id=models[0].id,
            snapshot_id=snapshot.id,
        )


# --- the expectation table ------------------------------------------------------------------------------

Body = Callable[[World], Any]


@dataclass(frozen=True)
class Op:
    access: Access
    body: Body | None = None
    """A valid JSON body (so a denied caller cannot hide behind a 422)."""
    files: Body | None = None
    """A valid multipart body instead."""
    path: Mapping[str, str] = field(default_factory=dict)
    """Path parameter -> World attribute, overriding ``DEFAULT_PATH``."""
    query: Body | None = None
    """Query parameters, where an operation's filter should be exercised."""
    ready_snapshot: bool = False
    """The operation reads the snapshot's files: build them for real."""
    lists_p: Callable[[World, Any], bool] | None = None
    """For a list open to every user: whether the JSON answer shows P's objects. It must for principals
    with at least ``lists_p_to`` access, and must not for the others."""
    lists_p_to: Access = Access.annotator


DEFAULT_PATH: dict[str, str] = {
    "project_id": "project_id",
    "user_id": "annotator_id",
    "prompt_id": "prompt_id",
    "assignment_id": "assignment_id",
    "label_id": "label_id",
    "item_id": "item_id",
    "token_id": "spare_token_id",
    "job_id": "job_id",
    "path": "artifact_path",
    "model_id": "model_id",
    "snapshot_id": "snapshot_id",
}

PAIR = {"choice": "a", "strength": 2}
LEASE = {"assignment_id": "lease_id"}
GOLD_ITEM = {"item_id": "gold_item_id"}

TABLE: dict[str, Op] = {
    # ops and auth
    "GET /healthz": Op(Access.public),
    "GET /readyz": Op(Access.public),
    "GET /metrics": Op(Access.public),
    "POST /api/auth/login": Op(Access.public, body=lambda w: {"username": w.annotator_username, "password": PASSWORD}),
    "POST /api/auth/logout": Op(Access.user),
    "GET /api/auth/me": Op(Access.user),
    "GET /api/auth/tokens": Op(Access.user),
    "POST /api/auth/tokens": Op(Access.user, body=lambda w: {"name": "matrix token"}),
    "DELETE /api/auth/tokens/{token_id}": Op(Access.self_),
    # users
    "GET /api/users": Op(Access.admin),
    "POST /api/users": Op(Access.admin, body=lambda w: {"username": f"new_{w.suffix}", "password": "a-long-password"}),
    "PATCH /api/users/{user_id}": Op(Access.admin, body=lambda w: {"display_name": "Renamed"}),
    # projects and members
    "GET /api/projects": Op(
        Access.user, lists_p=lambda w, body: any(p["id"] == w.project_id for p in body), lists_p_to=Access.annotator
    ),
    "POST /api/projects": Op(Access.admin, body=lambda w: {"name": f"new project {w.suffix}", "task_kind": "pairwise"}),
    "GET /api/projects/{project_id}": Op(Access.annotator),
    "PATCH /api/projects/{project_id}": Op(Access.manager, body=lambda w: {"guidelines": "Be kind."}),
    "GET /api/projects/{project_id}/members": Op(Access.manager),
    "PUT /api/projects/{project_id}/members": Op(
        Access.manager, body=lambda w: {"user_id": w.outsider_id, "role": "annotator"}
    ),
    "DELETE /api/projects/{project_id}/members/{user_id}": Op(Access.manager),
    # prompts
    "POST /api/projects/{project_id}/imports": Op(
        Access.manager,
        files=lambda w: {
            "file": ("prompts.jsonl", b'{"prompt": "Imported?", "candidates": ["x", "y"]}\n', "application/x-ndjson")
        },
    ),
    "GET /api/projects/{project_id}/prompts": Op(Access.manager),
    "GET /api/projects/{project_id}/prompts/{prompt_id}": Op(Access.manager),
    # annotation
    "POST /api/projects/{project_id}/next": Op(Access.annotator),
    "GET /api/projects/{project_id}/assignments/mine": Op(Access.annotator),
    "GET /api/assignments/{assignment_id}": Op(Access.self_),
    "POST /api/assignments/{assignment_id}/label": Op(
        Access.self_, body=lambda w: {"answer": PAIR, "rationale": "fresh"}, path=LEASE
    ),
    "POST /api/assignments/{assignment_id}/skip": Op(Access.self_, body=lambda w: {"reason": "matrix"}, path=LEASE),
    "POST /api/assignments/{assignment_id}/extend": Op(Access.self_, path=LEASE),
    "PATCH /api/labels/{label_id}": Op(Access.self_, body=lambda w: {"answer": {"choice": "b", "strength": 1}}),
    "GET /api/projects/{project_id}/labels/mine": Op(Access.annotator),
    "GET /api/projects/{project_id}/progress": Op(Access.annotator),
    "GET /api/projects/{project_id}/progress/annotators": Op(Access.manager),
    "GET /api/projects/{project_id}/progress/me": Op(Access.annotator),
    # jobs
    "POST /api/jobs": Op(
        Access.manager, body=lambda w: {"kind": "smoke", "project_id": w.project_id, "params": {"steps": 1}}
    ),
    "GET /api/jobs": Op(
        Access.user,
        lists_p=lambda w, body: any(j["project_id"] == w.project_id for j in body["items"]),
        lists_p_to=Access.manager,
    ),
    "GET /api/jobs/kinds": Op(Access.user),
    "GET /api/jobs/{job_id}": Op(Access.manager),
    "POST /api/jobs/{job_id}/cancel": Op(Access.manager),
    "GET /api/jobs/{job_id}/metrics": Op(Access.manager),
    "GET /api/jobs/{job_id}/logs": Op(Access.manager),
    "POST /api/jobs/reap": Op(Access.admin),
    "GET /api/jobs/{job_id}/artifacts": Op(Access.manager),
    "GET /api/jobs/{job_id}/artifacts/{path}": Op(Access.manager),
    # registry (instance-wide, but versions are trained on projects' snapshots: not for annotators)
    "POST /api/models": Op(Access.admin, body=lambda w: {"name": f"registered {w.suffix}", "source": "gpt2"}),
    "GET /api/models": Op(Access.staff),
    "GET /api/models/leaderboard": Op(Access.reviewer, query=lambda w: {"project_id": w.project_id}),
    "GET /api/models/{model_id}": Op(Access.staff),
    # quality and review
    "GET /api/projects/{project_id}/quality": Op(Access.reviewer),
    "GET /api/projects/{project_id}/quality/annotators": Op(Access.manager),
    "GET /api/projects/{project_id}/quality/items": Op(Access.reviewer),
    "GET /api/projects/{project_id}/review/items/{item_id}": Op(Access.reviewer),
    "PUT /api/projects/{project_id}/items/{item_id}/adjudication": Op(
        Access.reviewer, body=lambda w: {"answer": PAIR, "note": "matrix"}
    ),
    "DELETE /api/projects/{project_id}/items/{item_id}/adjudication": Op(Access.reviewer),
    "GET /api/projects/{project_id}/items": Op(Access.manager),
    "PUT /api/projects/{project_id}/items/{item_id}/gold": Op(
        Access.manager, body=lambda w: {"answer": {"choice": "b", "strength": 3}}, path=GOLD_ITEM
    ),
    "DELETE /api/projects/{project_id}/items/{item_id}/gold": Op(Access.manager, path=GOLD_ITEM),
    "POST /api/projects/{project_id}/gold": Op(
        Access.manager, body=lambda w: {"items": [{"item_id": w.free_item_id, "answer": PAIR}]}
    ),
    "POST /api/projects/{project_id}/items/requeue": Op(Access.manager, body=lambda w: {"max_agreement": 1.0}),
    # datasets
    "POST /api/projects/{project_id}/snapshots": Op(Access.manager, body=lambda w: {"name": "matrix snapshot"}),
    "GET /api/projects/{project_id}/snapshots": Op(Access.manager),
    "GET /api/snapshots/{snapshot_id}": Op(Access.manager),
    "GET /api/snapshots/{snapshot_id}/manifest": Op(Access.manager, ready_snapshot=True),
    "GET /api/snapshots/{snapshot_id}/export": Op(Access.manager, ready_snapshot=True),
}


# --- helpers --------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[broker.TaskMessage]]:
    """Jobs created by the calls are recorded, not sent; revokes of cancelled jobs go nowhere."""
    sent: list[broker.TaskMessage] = []
    monkeypatch.setattr(broker, "sender", sent.append)
    monkeypatch.setattr(broker, "revoke", lambda task_id: None)
    yield sent


def url_for(key: str, op: Op, world: World, overrides: Mapping[str, str] | None = None) -> str:
    names = {**DEFAULT_PATH, **op.path, **(overrides or {})}

    def fill(m: re.Match[str]) -> str:
        param = m.group(1)
        if param not in names:
            raise AssertionError(f"{key}: no value for path parameter {{{param}}}; add it to DEFAULT_PATH or op.path")
        return str(getattr(world, names[param]))

    return re.sub(r"\{(\w+)\}", fill, key.split(" ", 1)[1])


def call(
    client: httpx.Client,
    key: str,
    world: World,
    token: str | None,
    overrides: Mapping[str, str] | None = None,
) -> httpx.Response:
    op = TABLE.get(key, Op(Access.user))  # (an operation missing from TABLE fails the coverage test)
    method = key.split(" ", 1)[0]
    kwargs: dict[str, Any] = {"headers": auth(token) if token else {}}
    if op.body is not None:
        kwargs["json"] = op.body(world)
    if op.files is not None:
        kwargs["files"] = op.files(world)
    if op.query is not None:
        kwargs["params"] = op.query(world)
    return client.request(method, url_for(key, op, world, overrides), **kwargs)


def _exposes_annotator(world: World, text: str) -> list[str]:
    secrets = {
        "username": world.annotator_username,
        "display name": world.annotator_display,
        "rationale marker": world.marker,
    }
    return [what for what, value in secrets.items() if value in text]


def schema_operations(schema: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        f"{method.upper()} {path}": spec
        for path, item in schema["paths"].items()
        for method, spec in item.items()
        if method in HTTP_METHODS
    }


# --- the tests ------------------------------------------------------------------------------------------


def test_table_covers_every_operation(settings_env: dict[str, str]) -> None:
    from app.main import create_app

    ops = schema_operations(create_app().openapi())
    missing = sorted(set(ops) - set(TABLE))
    stale = sorted(set(TABLE) - set(ops))
    assert not missing, f"operations without an entry in the RBAC TABLE (add one): {missing}"
    assert not stale, f"TABLE entries for operations that no longer exist: {stale}"
    bodiless = sorted(
        key for key, spec in ops.items() if "requestBody" in spec and TABLE[key].body is None and not TABLE[key].files
    )
    assert not bodiless, f"operations that take a body but whose TABLE entry sends none: {bodiless}"
    for key, op in TABLE.items():
        for param in re.findall(r"\{(\w+)\}", key):
            assert param in {**DEFAULT_PATH, **op.path}, f"{key}: no value for path parameter {{{param}}}"


@pytest.mark.parametrize("key", list(TABLE), ids=list(TABLE))
def test_access_matrix(app_client: httpx.Client, key: str) -> None:
    op = TABLE[key]
    allowed = ALLOWED[op.access]
    order = [p for p in PRINCIPALS if p not in allowed] + [p for p in PRINCIPALS if p in allowed]
    is_read = key.startswith("GET ")
    world = build_world(ready_snapshot=op.ready_snapshot)
    failures: list[str] = []
    allowed_calls = 0
    for principal in order:
        if principal in allowed:
            if allowed_calls and not is_read:
                world = build_world(ready_snapshot=op.ready_snapshot)
            allowed_calls += 1
        r = call(app_client, key, world, world.tokens[principal])
        got = f"{principal}: {r.status_code} {r.text[:300]}"
        if principal in allowed:
            if not 200 <= r.status_code < 300:
                failures.append(f"allowed {got}")
        elif principal == "anonymous":
            if r.status_code != 401:
                failures.append(f"denied (want 401) {got}")
        elif principal == "other" and op.access in PROJECT_SCOPED:
            if r.status_code != 404:
                failures.append(f"denied non-member (want 404) {got}")
        elif r.status_code not in (403, 404):
            failures.append(f"denied (want 403/404) {got}")
        if op.lists_p is not None and 200 <= r.status_code < 300:
            shows_p = op.lists_p(world, r.json())
            if shows_p != (principal in ALLOWED[op.lists_p_to]):
                failures.append(f"{'LEAK: ' if shows_p else ''}{principal} {'sees' if shows_p else 'misses'} P: {got}")
        if principal in ("anonymous", "other") and key != "POST /api/auth/login":
            # (login answers whoever sends A's password with A's own profile.)
            leaked = _exposes_annotator(world, r.text)
            if leaked:
                failures.append(f"LEAK to {principal}: A's {', '.join(leaked)} in {r.text[:300]}")
    assert not failures, f"{key} ({op.access}):\n" + "\n".join(failures)


USER_KEYS = frozenset({"user_id", "created_by", "reviewer_id", "annotator_id", "owner_id"})
USER_LIST_KEYS = frozenset({"annotator_ids", "exclude_annotator_ids", "user_ids"})


def _foreign_work(node: Any, world: World, where: str = "$") -> list[str]:
    """Places in a JSON document that identify A or carry A's label or assignment."""
    found: list[str] = []
    if isinstance(node, dict):
        for k, v in node.items():
            at = f"{where}.{k}"
            if k in USER_KEYS and v == world.annotator_id:
                found.append(f"{at} = A's user id")
            if k in USER_LIST_KEYS and isinstance(v, list) and world.annotator_id in v:
                found.append(f"{at} contains A's user id")
            if k == "label_id" and v == world.label_id:
                found.append(f"{at} = A's label")
            if k == "assignment_id" and v == world.assignment_id:
                found.append(f"{at} = A's assignment")
            found += _foreign_work(v, world, at)
        if "username" in node and node.get("id") == world.annotator_id:
            found.append(f"{where} is A's user record")
        if {"answer", "rationale"} <= node.keys() and node.get("id") == world.label_id:
            found.append(f"{where} is A's label")
        if {"state", "item"} <= node.keys() and node.get("id") == world.assignment_id:
            found.append(f"{where} is A's assignment")
    elif isinstance(node, list):
        for n, v in enumerate(node):
            found += _foreign_work(v, world, f"{where}[{n}]")
    return found


def test_annotator_never_sees_another_annotators_work(app_client: httpx.Client) -> None:
    from app.main import create_app

    world = build_world(ready_snapshot=True)
    ops = schema_operations(create_app().openapi())
    reads = [*sorted(k for k in ops if k.startswith("GET ")), "POST /api/projects/{project_id}/next"]
    calls: list[tuple[str, dict[str, str]]] = []
    for key in reads:
        calls.append((key, {}))
        if "{assignment_id}" in key:
            calls.append((key, {"assignment_id": "b_assignment_id"}))  # B's own assignment of A's item
    failures: list[str] = []
    seen_ok = 0
    for key, overrides in calls:
        r = call(app_client, key, world, world.b_token, overrides)
        what = f"{key} {overrides or ''} -> {r.status_code}"
        if r.status_code >= 500:
            failures.append(f"{what}: server error {r.text[:300]}")
        leaked = _exposes_annotator(world, r.text)
        if leaked:
            failures.append(f"{what}: A's {', '.join(leaked)} in {r.text[:300]}")
        if r.headers.get("content-type", "").startswith("application/json"):
            found = _foreign_work(r.json(), world)
            if found:
                failures.append(f"{what}: {'; '.join(found)}")
        seen_ok += 200 <= r.status_code < 300
    assert not failures, "leaks to annotator B:\n" + "\n".join(failures)
    assert seen_ok >= 10, "B should get answers from their own endpoints (is the world set up?)"

    # B does see their own work on the same item ...
    mine = app_client.get(f"/api/assignments/{world.b_assignment_id}", headers=auth(world.b_token)).json()
    assert mine["label"]["id"] == world.b_label_id and mine["item"]["id"] == world.item_id
    # ... and a reviewer may see A's label: the markers above would have been found.
    reviewer = app_client.get(
        f"/api/projects/{world.project_id}/review/items/{world.item_id}", headers=auth(world.tokens["reviewer"] or "")
    )
    assert reviewer.status_code == 200
    assert world.marker in reviewer.text and world.annotator_username in reviewer.text
    assert _foreign_work(reviewer.json(), world)
