"""The whole loop over REST on a real worker, with the tiny model: generate → label → snapshot →
reward model → PPO and DPO → evaluate (reward model, and blind human round) → leaderboard → the new
policy generates the next round. Every version records the snapshot and parent that made it."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from app.auth.models import GlobalRole
from app.db import session_scope
from app.prompts.models import Candidate, Prompt
from tests.factories import add_member, auth, make_project, make_user

PROMPTS = [
    "How do I boil an egg?",
    "What is the capital of France?",
    "Give me a tip for sleeping better.",
    "How can I learn to cook?",
    "What should I pack for a hike?",
    "How do I water a cactus?",
    "Why is the sky blue?",
    "How do I make tea?",
]


def _wait(client: httpx.Client, h: dict[str, str], job_id: int, timeout: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/api/jobs/{job_id}", headers=h).json()
        if job["state"] in ("succeeded", "failed", "cancelled"):
            assert job["state"] == "succeeded", (job["error"], job)
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.3)


def _launch(client: httpx.Client, h: dict[str, str], kind: str, pid: int, params: dict[str, Any]) -> dict[str, Any]:
    r = client.post("/api/jobs", json={"kind": kind, "project_id": pid, "params": params}, headers=h)
    assert r.status_code == 201, r.text
    return _wait(client, h, r.json()["id"])


def _label(client: httpx.Client, token: str, pid: int) -> int:
    """Prefer the longer response, strongly when it is much longer: a rule a reward model can learn."""
    n = 0
    while (r := client.post(f"/api/projects/{pid}/next", headers=auth(token))).status_code == 200:
        a = r.json()
        first, second = (len(c["text"]) for c in a["item"]["candidates"])
        answer = {"choice": "tie"} if first == second else {"choice": "a" if first > second else "b", "strength": 2}
        assert (
            client.post(f"/api/assignments/{a['id']}/label", json={"answer": answer}, headers=auth(token)).status_code
            == 201
        )
        n += 1
    return n


def test_the_closed_loop_from_labels_to_a_new_policy_and_back(
    app_client: httpx.Client, start_worker: Callable[..., Any], tiny_model_dir: Path
) -> None:
    client = app_client
    start_worker()
    admin_id, admin = make_user(GlobalRole.admin)
    h = auth(admin)
    reg = client.post("/api/models", json={"name": "tiny", "source": str(tiny_model_dir)}, headers=h).json()
    _wait(client, h, reg["validation_job_id"])
    base = reg["id"]

    pid = make_project(task_kind="pairwise", overlap=1, created_by=admin_id)
    with session_scope() as s:
        for i, text in enumerate(PROMPTS):
            s.add(Prompt(project_id=pid, external_id=f"q{i}", text=text, meta={}, split="test" if i >= 6 else None))
    annotators = [make_user() for _ in range(2)]
    for uid, _ in annotators:
        add_member(pid, uid)
    gen = {"model_version_id": base, "k": 3, "max_new_tokens": 16, "seed": 1, "temperature": 1.0}
    _launch(client, h, "generation", pid, gen)
    labelled = sum(_label(client, token, pid) for _, token in annotators)
    assert labelled == len(PROMPTS) * 3  # 3 candidates -> 3 pairs per prompt, one label each

    snap = client.post(
        f"/api/projects/{pid}/snapshots",
        json={"name": "round 1", "spec": {"splits": {"train": 0.75, "validation": 0.25, "test": 0.0}}},
        headers=h,
    ).json()
    _wait(client, h, snap["job_id"])
    snapshot = client.get(f"/api/snapshots/{snap['id']}", headers=h).json()
    assert snapshot["status"] == "ready" and snapshot["counts"]["pairs"]["train"] > 0

    rm_job = _launch(
        client,
        h,
        "reward_model",
        pid,
        {
            "snapshot_id": snap["id"],
            "base_model_version_id": base,
            "max_steps": 4,
            "batch_size": 4,
            "max_length": 96,
            "learning_rate": 1e-3,
        },
    )
    rm = client.get(f"/api/models/{rm_job['result']['model_version_id']}", headers=h).json()
    assert (rm["kind"], rm["parent_id"], rm["snapshot_id"], rm["job_id"]) == ("reward", base, snap["id"], rm_job["id"])
    assert {m["name"] for m in client.get(f"/api/jobs/{rm_job['id']}/metrics", headers=h).json()} >= {"loss"}

    ppo_job = _launch(
        client,
        h,
        "ppo",
        pid,
        {
            "policy_model_version_id": base,
            "reward_model_version_id": rm["id"],
            "snapshot_id": snap["id"],
            "total_episodes": 8,
            "batch_size": 4,
            "mini_batch_size": 2,
            "response_length": 8,
            "learning_rate": 1e-4,
            "critic_from_reward_model": True,  # TRL's layout: the reward model's trunk and head as the critic
        },
    )
    policy = client.get(f"/api/models/{ppo_job['result']['model_version_id']}", headers=h).json()
    assert (policy["kind"], policy["parent_id"], policy["snapshot_id"]) == ("policy", base, snap["id"])
    assert policy["info"]["reward_model_version_id"] == rm["id"]
    ppo_metrics = {m["name"] for m in client.get(f"/api/jobs/{ppo_job['id']}/metrics", headers=h).json()}
    assert {"objective/kl", "objective/entropy", "objective/scores", "policy/clipfrac_avg"} <= ppo_metrics, ppo_metrics

    dpo_job = _launch(
        client,
        h,
        "dpo",
        pid,
        {
            "snapshot_id": snap["id"],
            "policy_model_version_id": base,
            "max_steps": 2,
            "batch_size": 4,
            "max_length": 96,
            "max_prompt_length": 48,
        },
    )
    dpo_policy = client.get(f"/api/models/{dpo_job['result']['model_version_id']}", headers=h).json()
    assert (dpo_policy["parent_id"], dpo_policy["snapshot_id"]) == (base, snap["id"])

    ev = _launch(
        client,
        h,
        "evaluation",
        pid,
        {
            "reward_model_version_id": rm["id"],
            "snapshot_id": snap["id"],
            "policy_model_version_id": policy["id"],
            "prompt_split": "test",
            "max_new_tokens": 8,
            "human_eval": True,
        },
    )
    result = ev["result"]
    assert 0.0 <= result["reward_accuracy"] <= 1.0 and 0.0 <= result["win_rate"] <= 1.0
    assert result["prompts"] == 2 and result["baseline_model_version_id"] == base and "kl" in result
    human = result["human_eval_project_id"]
    for _, token in annotators:
        _label(client, token, human)
    board = {e["model_version_id"]: e for e in client.get("/api/models/leaderboard", headers=h).json()}
    assert set(board) == {base, policy["id"]} and board[base]["comparisons"] == 2

    # The new policy answers the next round in the original project.
    _launch(client, h, "generation", pid, {**gen, "model_version_id": policy["id"], "k": 2})
    with session_scope(write=False) as s:
        new = s.scalars(
            select(Candidate).where(Candidate.project_id == pid, Candidate.model_version_id == policy["id"])
        ).all()
    assert len(new) == len(PROMPTS) * 2
    assert client.post(f"/api/projects/{pid}/next", headers=auth(annotators[0][1])).status_code == 200
