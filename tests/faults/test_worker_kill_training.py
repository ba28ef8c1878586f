"""kill -9 of a worker in the middle of a reward-model training job.

What the code is designed to do (app/jobs/kinds.py, app/jobs/service.reap, workers/tasks/training.py,
workers/ml/checkpoints.py): the job saves its whole training state every ``checkpoint_steps`` steps into
the job's hidden ``.checkpoints`` folder. ``reward_model`` is an idempotent kind (max 3 attempts), so once
the dead worker's heartbeat is stale the reaper re-queues the job ("worker lost" in its log) and the next
worker RESUMES from the last checkpoint. The half-trained attempt registers no model version and leaves
no ``model`` folder; the resumed run registers exactly one ready version whose folder is complete and
loads, and removes the checkpoints.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from app.artifacts import store
from app.auth.models import GlobalRole
from app.db import session_scope
from app.registry.models import ModelStatus, ModelVersion
from tests.factories import auth, make_user
from tests.faults.conftest import TERMINAL, labelled_snapshot, register_base_model, wait_job
from workers.ml.checkpoints import last_checkpoint, step_of
from workers.ml.reward import RewardScorer
from workers.tasks.lineage import MODEL_DIR

MAX_STEPS = 150  # seconds of training on the tiny model: long enough to be killed in the middle
EVERY = 5  # checkpoint_steps


def _versions_of(job_id: int) -> list[ModelVersion]:
    with session_scope(write=False) as s:
        return list(s.scalars(select(ModelVersion).where(ModelVersion.job_id == job_id)))


def _loss_steps(client: httpx.Client, h: dict[str, str], job_id: int) -> list[int]:
    series = client.get(f"/api/jobs/{job_id}/metrics", params={"name": "loss"}, headers=h).json()
    return [step for s in series for step in s["steps"]]


def test_kill_9_mid_training_requeues_and_a_second_worker_trains_it_again(
    app_client: httpx.Client, start_worker: Callable[..., Any], tiny_model_dir: Path
) -> None:
    client = app_client
    first = start_worker()
    admin_id, admin = make_user(GlobalRole.admin)
    h = auth(admin)
    pid, snapshot_id = labelled_snapshot(client, admin_id, h)
    base = register_base_model(tiny_model_dir)
    params = {
        "snapshot_id": snapshot_id,
        "base_model_version_id": base,
        "max_steps": MAX_STEPS,
        "batch_size": 4,
        "max_length": 96,
        "learning_rate": 1e-3,
        "checkpoint_steps": EVERY,
    }
    created = client.post("/api/jobs", json={"kind": "reward_model", "project_id": pid, "params": params}, headers=h)
    assert created.status_code == 201, created.text
    job_id = created.json()["id"]

    # Mid-training, past the second checkpoint: optimizer steps reported and their metrics stored.
    wait_job(client, h, job_id, lambda j: j["state"] == "running" and j["progress_done"] >= 2 * EVERY + 2)
    wait_job(client, h, job_id, lambda j: len(_loss_steps(client, h, job_id)) >= 2 * EVERY + 2)
    first.kill9()

    job = client.get(f"/api/jobs/{job_id}", headers=h).json()
    assert (job["state"], job["attempts"]) == ("running", 1), job
    killed_at = job["progress_done"]
    assert 2 * EVERY + 2 <= killed_at < MAX_STEPS
    resume_from = last_checkpoint(store.job_dir(job_id) / ".checkpoints")
    assert resume_from is not None and EVERY * 2 <= step_of(resume_from) <= killed_at, resume_from
    # The dead attempt registered nothing and committed no model folder; all it left is its hidden
    # staging folder and its checkpoints (never listed as artifacts).
    assert _versions_of(job_id) == []
    left = sorted(p.name for p in store.job_dir(job_id).iterdir())
    assert left[0] == ".checkpoints" and len(left) == 2, left
    assert left[1].startswith(f".{MODEL_DIR}.") and left[1].endswith(".tmp"), left
    assert client.get(f"/api/jobs/{job_id}/artifacts", headers=h).json() == []

    # Once its heartbeat is stale (3 s in tests), the reaper re-queues it: an idempotent kind, attempt 1 of 3.
    def reaped(j: dict[str, Any]) -> bool:
        if j["state"] == "running":
            assert client.post("/api/jobs/reap", headers=h).status_code == 200
            return False
        return True

    job = wait_job(client, h, job_id, reaped, timeout=120)
    assert (job["state"], job["attempts"], job["error"], job["worker"]) == ("queued", 1, None, None), job
    logs = [line["message"] for line in client.get(f"/api/jobs/{job_id}/logs", headers=h).json()]
    assert any(m.startswith("worker lost: no heartbeat") for m in logs), logs
    assert _versions_of(job_id) == []

    start_worker()
    job = wait_job(client, h, job_id, lambda j: j["state"] in TERMINAL, timeout=240)
    assert job["state"] == "succeeded", (job["error"], job)
    assert job["attempts"] == 2 and job["error"] is None
    assert job["progress_done"] == job["progress_total"] == MAX_STEPS
    assert job["result"]["steps"] == MAX_STEPS

    # Resumed from the checkpoint: the second attempt reported steps after it only, so the loss curve has
    # every step, those between the checkpoint and the kill twice, none before the checkpoint twice.
    counts = Counter(_loss_steps(client, h, job_id))
    assert set(counts) == set(range(1, MAX_STEPS + 1)) and max(counts.values()) <= 2
    twice = sorted(step for step, n in counts.items() if n == 2)
    assert all(step_of(resume_from) < step <= killed_at + 1 for step in twice), (twice, resume_from, killed_at)
    resumed = client.get(f"/api/jobs/{job_id}/metrics", params={"name": "resumed_from_step"}, headers=h).json()
    assert [v for series in resumed for v in series["values"]] == [float(step_of(resume_from))]

    # Exactly one version, ready, pointing at the committed folder, which is whole and loads.
    versions = _versions_of(job_id)
    assert len(versions) == 1, versions
    version = versions[0]
    assert (version.id, version.status, version.kind, version.source) == (
        job["result"]["model_version_id"],
        ModelStatus.ready,
        "reward",
        f"artifact:{job_id}/{MODEL_DIR}",
    )
    assert (version.parent_id, version.snapshot_id) == (base, snapshot_id)
    folder = store.job_dir(job_id) / MODEL_DIR
    train_config = json.loads((folder / "train_config.json").read_text())
    assert train_config["resolved"]["steps"] == MAX_STEPS
    scores = RewardScorer(folder, device="cpu").score(["Prompt 1?"], ["Answer 1.0"])
    assert len(scores) == 1
    # Only the committed artifact is left: the re-run removed the killed attempt's staging folder and,
    # once done, the checkpoints (its own staging folder was renamed into place).
    assert sorted(p.name for p in store.job_dir(job_id).iterdir()) == [MODEL_DIR]
