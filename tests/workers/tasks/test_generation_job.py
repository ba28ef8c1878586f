"""The generation job end to end through REST on a real worker with the tiny model."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from app.annotation.models import Item
from app.auth.models import GlobalRole
from app.db import session_scope
from app.prompts.models import Candidate, Prompt
from tests.factories import auth, make_project, make_user

PROMPTS = ["How do I boil an egg?", "What is the capital of France?", "Give me a tip for sleeping better."]


def _wait_done(client: httpx.Client, h: dict[str, str], job_id: int, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/api/jobs/{job_id}", headers=h).json()
        if job["state"] in ("succeeded", "failed", "cancelled"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.25)


def _project_with_prompts(admin_id: int) -> int:
    pid = make_project(task_kind="pairwise", created_by=admin_id)
    with session_scope() as s:
        for i, text in enumerate(PROMPTS):
            s.add(Prompt(project_id=pid, external_id=f"q{i}", text=text, meta={}))
        s.add(Prompt(project_id=pid, external_id="chat", messages=[{"role": "user", "content": "Say hello."}], meta={}))
    return pid


def _register(client: httpx.Client, h: dict[str, str], path: Path) -> int:
    reg = client.post("/api/models", json={"name": "tiny", "source": str(path)}, headers=h).json()
    _wait_done(client, h, reg["validation_job_id"])
    assert client.get(f"/api/models/{reg['id']}", headers=h).json()["status"] == "ready"
    return int(reg["id"])


def _texts(pid: int) -> list[str]:
    with session_scope(write=False) as s:
        return list(
            s.scalars(
                select(Candidate.text).where(Candidate.project_id == pid).order_by(Candidate.prompt_id, Candidate.id)
            )
        )


def test_generation_fills_a_project_with_candidates_and_items_deterministically(
    app_client: httpx.Client, start_worker: Callable[..., Any], tiny_model_dir: Path
) -> None:
    start_worker()
    admin_id, token = make_user(GlobalRole.admin)
    h = auth(admin_id and token)
    model_id = _register(app_client, h, tiny_model_dir)
    params = {
        "model_version_id": model_id,
        "k": 2,
        "max_new_tokens": 12,
        "seed": 7,
        "temperature": 1.0,
        "batch_size": 4,
    }
    runs = []
    for _ in range(2):
        pid = _project_with_prompts(admin_id)
        job = app_client.post(
            "/api/jobs", json={"kind": "generation", "project_id": pid, "params": params}, headers=h
        ).json()
        job = _wait_done(app_client, h, job["id"])
        assert job["state"] == "succeeded", job
        runs.append((pid, job))
    (pid, job), (pid2, _) = runs
    assert job["progress_done"] == job["progress_total"] == 4
    assert job["result"]["candidates"] == 8 and job["result"]["generated_tokens"] > 0
    assert "tokens/s" in job["progress_note"]
    metrics = {m["name"] for m in app_client.get(f"/api/jobs/{job['id']}/metrics", headers=h).json()}
    assert metrics == {"tokens_per_s", "generated_tokens"}
    with session_scope(write=False) as s:
        cands = s.scalars(select(Candidate).where(Candidate.project_id == pid)).all()
        n_items = s.scalar(select(func.count()).select_from(Item).where(Item.project_id == pid))
    assert len(cands) == 8 and n_items == 4  # one A/B pair per prompt
    assert all(c.model_version_id == model_id and c.job_id == job["id"] for c in cands)
    assert all(c.source["params"]["seed"] == 7 for c in cands)
    # Same model, prompts and seed: the same samples.
    assert _texts(pid) == _texts(pid2) and len(set(_texts(pid))) > 1
    # The items are ready to label.
    assert app_client.post(f"/api/projects/{pid}/next", headers=h).status_code == 200
    # 'missing' (the default) now finds nothing left to do for this model.
    again = app_client.post(
        "/api/jobs", json={"kind": "generation", "project_id": pid, "params": params}, headers=h
    ).json()
    again = _wait_done(app_client, h, again["id"])
    assert again["state"] == "succeeded" and again["result"]["candidates"] == 0


def test_a_rerun_of_the_same_job_skips_prompts_it_already_answered(
    app_client: httpx.Client, start_worker: Callable[..., Any], tiny_model_dir: Path
) -> None:
    admin_id, token = make_user(GlobalRole.admin)
    h = auth(token)
    worker = start_worker()
    model_id = _register(app_client, h, tiny_model_dir)
    pid = _project_with_prompts(admin_id)
    params = {"model_version_id": model_id, "k": 2, "max_new_tokens": 8, "prompts": "all", "batch_size": 2}
    # Stop the worker so the job waits in the queue while we fake a first attempt's committed batch.
    worker.stop()
    job = app_client.post(
        "/api/jobs", json={"kind": "generation", "project_id": pid, "params": params}, headers=h
    ).json()
    with session_scope() as s:
        first = s.scalar(select(Prompt.id).where(Prompt.project_id == pid).order_by(Prompt.id))
        for i in range(2):
            s.add(
                Candidate(
                    project_id=pid,
                    prompt_id=first,
                    text=f"earlier {i}",
                    source={},
                    meta={},
                    job_id=job["id"],
                    model_version_id=model_id,
                )
            )
    start_worker()
    job = _wait_done(app_client, h, job["id"])
    assert job["state"] == "succeeded" and job["progress_done"] == 4 and job["result"]["candidates"] == 6
    with session_scope(write=False) as s:
        texts = s.scalars(select(Candidate.text).where(Candidate.prompt_id == first)).all()
    assert sorted(texts) == ["earlier 0", "earlier 1"]
