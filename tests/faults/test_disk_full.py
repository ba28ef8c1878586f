"""The artifact disk fills up while a training job writes its model.

A real worker gets a small tmpfs as its artifact directory (PREFLOOP_ARTIFACT_DIR; the API and this test
keep the usual one). The tmpfs holds the project's snapshot (built there by the same worker) but is
smaller than the tiny model's weights, so a reward-model job trains to the end and then runs out of
space writing its checkpoint. The job must end ``failed`` with an error that says the disk is full and
where; no model version may be registered; no partial checkpoint folder (committed or staging) may be
left behind; the worker survives and runs the next job.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select

from app.artifacts import store
from app.auth.models import GlobalRole
from app.config import get_settings
from app.datasets.models import Snapshot
from app.db import session_scope
from app.registry.models import ModelVersion
from tests.conftest import WorkerProcess
from tests.factories import auth, make_user
from tests.faults.conftest import labelled_snapshot, register_base_model, wait_job
from workers.tasks.lineage import MODEL_DIR

MAX_STEPS = 4


@pytest.fixture
def small_artifact_disk(tmp_path: Path, tiny_model_dir: Path) -> Iterator[Path]:
    """A tmpfs of 60 % of the tiny model's weights (the reward model's are the same size): room for a
    snapshot and the trainer's dataset cache, never for the checkpoint. Unmounted afterwards."""
    weights = (tiny_model_dir / "model.safetensors").stat().st_size
    size_kib = weights * 6 // 10 // 4096 * 4
    mount = tmp_path / "artifact-disk"
    mount.mkdir()
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs", str(mount)], capture_output=True, text=True
        )
    except FileNotFoundError:
        pytest.skip("no mount command here: cannot make a small disk for the artifact directory")
    if done.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here (needs root/CAP_SYS_ADMIN): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        if subprocess.run(["umount", str(mount)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mount)], capture_output=True)


@pytest.fixture
def worker_on_small_disk(
    engine: Engine, settings_env: dict[str, str], small_artifact_disk: Path, tmp_path: Path
) -> Iterator[WorkerProcess]:
    """A real worker whose artifact directory is the small disk (stopped before the disk is unmounted)."""
    env = {**os.environ, **settings_env, "PREFLOOP_ARTIFACT_DIR": str(small_artifact_disk)}
    worker = WorkerProcess(env, tmp_path / "worker.log")
    yield worker
    worker.stop()


def test_a_full_artifact_disk_fails_the_checkpoint_write_cleanly(
    app_client: httpx.Client,
    worker_on_small_disk: WorkerProcess,
    small_artifact_disk: Path,
    tiny_model_dir: Path,
) -> None:
    client = app_client
    disk = small_artifact_disk
    admin_id, admin = make_user(GlobalRole.admin)
    h = auth(admin)
    pid, snapshot_id = labelled_snapshot(client, admin_id, h)
    with session_scope(write=False) as s:
        snapshot_job = s.scalar(select(Snapshot.job_id).where(Snapshot.id == snapshot_id))
    snapshot_dir = disk / "jobs" / str(snapshot_job) / "snapshot"
    snapshot_files = sorted(p.name for p in snapshot_dir.iterdir())
    assert "pairs.parquet" in snapshot_files  # the snapshot fits on the small disk...
    weights = (tiny_model_dir / "model.safetensors").stat().st_size
    assert shutil.disk_usage(disk).total < weights  # ...the model's weights never can
    base = register_base_model(tiny_model_dir)

    params = {"snapshot_id": snapshot_id, "base_model_version_id": base, "max_steps": MAX_STEPS, "batch_size": 4}
    created = client.post("/api/jobs", json={"kind": "reward_model", "project_id": pid, "params": params}, headers=h)
    assert created.status_code == 201, created.text
    job = wait_job(client, h, created.json()["id"])
    job_id = job["id"]

    assert job["state"] == "failed", job
    # Trained to the end: it is the checkpoint write that found the disk full.
    assert job["progress_done"] == MAX_STEPS, job
    error = job["error"]
    assert "No space left on device" in error and "artifact disk is full" in error, error
    assert str(disk) in error, error  # says which directory to free or enlarge
    logs = " ".join(line["message"] for line in client.get(f"/api/jobs/{job_id}/logs", headers=h).json())
    assert "artifact disk is full" in logs

    # No version registered (ready or otherwise).
    with session_scope(write=False) as s:
        assert s.scalars(select(ModelVersion).where(ModelVersion.job_id == job_id)).all() == []
    # No partial checkpoint where the model would live, nor a staging folder: the space is given back.
    job_dir = disk / "jobs" / str(job_id)
    assert not (job_dir / MODEL_DIR).exists()
    assert [p.relative_to(disk).as_posix() for p in job_dir.rglob("*")] == []
    # The snapshot is untouched.
    assert sorted(p.name for p in snapshot_dir.iterdir()) == snapshot_files

    # The worker survived the failure and runs the next job.
    assert worker_on_small_disk.proc.poll() is None
    smoke = client.post("/api/jobs", json={"kind": "smoke", "params": {"steps": 2, "step_seconds": 0}}, headers=h)
    assert wait_job(client, h, smoke.json()["id"], timeout=120)["state"] == "succeeded"


def test_only_the_artifact_disk_is_blamed(engine: Engine, tmp_path: Path) -> None:
    """In-process: an out-of-space error becomes ArtifactDiskFull (naming the artifact directory) only
    when it is the artifact disk's; a full disk elsewhere and other errors go through unchanged."""
    staged = store.staging_dir(1, "model")
    where = str(get_settings().resolved_artifact_dir)

    inside = OSError(errno.ENOSPC, "No space left on device", str(staged / "model.safetensors"))
    with pytest.raises(store.ArtifactDiskFull) as caught, store.disk_full_reported(staged, "the model of job 1"):
        raise inside
    assert caught.value.errno == errno.ENOSPC and caught.value.__cause__ is inside
    assert "artifact disk is full" in str(caught.value) and where in str(caught.value)

    # A library's error that names no file (as safetensors raises it); here the temporary directory is
    # on the artifact disk itself, so the artifact disk is the full one.
    wrapped = RuntimeError("Error while serializing: I/O error: No space left on device (os error 28)")
    with pytest.raises(store.ArtifactDiskFull) as caught, store.disk_full_reported(staged, "the model of job 1"):
        raise wrapped
    assert caught.value.__cause__ is wrapped and where in str(caught.value)

    elsewhere = OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "train.jsonl"))
    with pytest.raises(OSError) as passed, store.disk_full_reported(staged, "the model of job 1"):
        raise elsewhere
    assert passed.value is elsewhere

    other = ValueError("not a disk problem")
    with pytest.raises(ValueError) as unchanged, store.disk_full_reported(staged, "the model of job 1"):
        raise other
    assert unchanged.value is other
