"""What training and evaluation tasks share: inputs from the registry and snapshots, outputs into them.

- ``ready_version``: a registered model that loads, and where its weights are;
- ``snapshot_splits``: a ready snapshot of the job's project, exported per split as TRL's standard
  preference JSONL (with margins), the exact files the exports API serves;
- ``register_version``: the trained model as a new registry version with its parent, snapshot and job,
  once per job (a re-run after a crash finds the version it already registered).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.artifacts import store
from app.datasets import exports
from app.datasets.models import Snapshot, SnapshotStatus
from app.datasets.schema import SPLITS
from app.datasets.service import SNAPSHOT_DIR
from app.db import session_scope
from app.registry.models import ModelKind, ModelStatus, ModelVersion

MODEL_DIR = "model"
"""Where a training job puts the trained model, inside its artifact folder."""


@dataclass(frozen=True, slots=True)
class VersionRef:
    id: int
    name: str
    kind: ModelKind
    location: str
    info: dict[str, Any]


def model_location(version: ModelVersion) -> str:
    """Where a version's weights are: an artifact path (``artifact:<job>/<path>``), a local path, or a hub id."""
    if version.source.startswith("artifact:"):
        job_id, _, rel = version.source.removeprefix("artifact:").partition("/")
        return str(store.safe_path(int(job_id), rel))
    return version.source


def ready_version(version_id: int, *, kinds: tuple[ModelKind, ...] | None = None) -> VersionRef:
    with session_scope(write=False) as s:
        version = s.get(ModelVersion, version_id)
        if version is None:
            raise LookupError(f"model version {version_id} does not exist")
        if version.status != ModelStatus.ready:
            raise ValueError(f"model version {version.id} is {version.status}, not ready")
        if kinds is not None and version.kind not in kinds:
            raise ValueError(f"model version {version.id} is a {version.kind} model; expected {' or '.join(kinds)}")
        return VersionRef(
            version.id, version.name, ModelKind(version.kind), model_location(version), dict(version.info)
        )


def snapshot_folder(snapshot_id: int, project_id: int | None) -> Path:
    with session_scope(write=False) as s:
        snap = s.get(Snapshot, snapshot_id)
        if snap is None or snap.project_id != project_id:
            raise LookupError(f"snapshot {snapshot_id} is not a snapshot of this job's project")
        if snap.status != SnapshotStatus.ready or snap.job_id is None:
            raise ValueError(f"snapshot {snapshot_id} is {snap.status}, not ready")
        return store.safe_path(snap.job_id, SNAPSHOT_DIR)


def snapshot_splits(snapshot_id: int, project_id: int | None, out_dir: Path) -> dict[str, Path | None]:
    """Each split as preference JSONL with margins (None for an empty split)."""
    folder = snapshot_folder(snapshot_id, project_id)
    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path | None] = {}
    for split in SPLITS:
        path = out_dir / f"{split}.jsonl"
        size = 0
        with path.open("wb") as f:
            for chunk in exports.iter_export(folder, "preference", "jsonl", split=split, with_margin=True):
                f.write(chunk)
                size += len(chunk)
        files[split] = path if size else None
    if files["train"] is None:
        raise ValueError(f"snapshot {snapshot_id} has no training pairs")
    return files


def register_version(
    job_id: int,
    *,
    kind: ModelKind,
    name: str,
    parent_id: int | None,
    snapshot_id: int | None,
    metrics: dict[str, Any],
    info: dict[str, Any],
    created_by: int | None = None,
) -> int:
    """Register the job's committed ``model`` folder as a ready version; once per job."""
    with session_scope() as s:
        existing = s.scalar(select(ModelVersion.id).where(ModelVersion.job_id == job_id, ModelVersion.kind == kind))
        if existing is not None:
            return int(existing)
        version = ModelVersion(
            name=name,
            kind=kind,
            status=ModelStatus.ready,
            source=f"artifact:{job_id}/{MODEL_DIR}",
            parent_id=parent_id,
            job_id=job_id,
            snapshot_id=snapshot_id,
            metrics=metrics,
            info=info,
            created_by=created_by,
        )
        s.add(version)
        s.flush()
        return version.id
