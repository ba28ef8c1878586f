"""Create, find and read snapshots. Building is the snapshot job's (workers/tasks/snapshots.py)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.artifacts import store
from app.auth.principal import Principal
from app.datasets.models import Snapshot, SnapshotStatus
from app.datasets.schemas import SnapshotRead
from app.datasets.spec import SnapshotCreate
from app.errors import Conflict, InvalidInput, NotFound
from app.jobs import service as jobs
from app.jobs.kinds import JobKind
from app.jobs.models import Job
from app.jobs.states import JobState
from app.projects.access import ProjectAccess, project_for
from app.projects.models import ProjectRole, TaskKind

SNAPSHOT_DIR = "snapshot"
"""Where the snapshot job writes its files, inside its artifact folder."""


def create_snapshot(session: Session, access: ProjectAccess, data: SnapshotCreate, user_id: int) -> Snapshot:
    """Store the snapshot (building) and queue the job that builds it, after this transaction commits."""
    project = access.project
    criterion = data.spec.rating_criterion
    if criterion is not None:
        names = [c["name"] for c in project.criteria]
        if project.task_kind != TaskKind.rating or criterion not in names:
            raise InvalidInput(
                f"spec.rating_criterion: {criterion!r} is not a rating criterion of this project",
                field="spec.rating_criterion",
            )
    snapshot = Snapshot(
        project_id=project.id,
        name=data.name,
        spec=data.spec.model_dump(mode="json"),
        status=SnapshotStatus.building,
        counts={},
        created_by=user_id,
    )
    session.add(snapshot)
    session.flush()
    job = jobs.create_job(
        session, JobKind.snapshot, {"snapshot_id": snapshot.id}, project_id=project.id, created_by=user_id
    )
    snapshot.job_id = job.id
    session.flush()
    return snapshot


def snapshot_for(session: Session, principal: Principal, snapshot_id: int) -> Snapshot:
    """A snapshot of a project the caller manages (its rows name every annotator's judgements)."""
    snapshot = session.get(Snapshot, snapshot_id)
    if snapshot is None:
        raise NotFound(f"Snapshot {snapshot_id} not found.")
    project_for(session, principal, snapshot.project_id, ProjectRole.manager)
    return snapshot


def list_snapshots(session: Session, project_id: int) -> list[Snapshot]:
    return list(session.scalars(select(Snapshot).where(Snapshot.project_id == project_id).order_by(Snapshot.id.desc())))


def to_read(session: Session, snapshot: Snapshot) -> SnapshotRead:
    """The stored state, with a build whose job failed or was cancelled shown as failed."""
    status, error = snapshot.status, None
    if snapshot.status == SnapshotStatus.building and snapshot.job_id is not None:
        job = session.get(Job, snapshot.job_id)
        if job is not None and job.state in (JobState.failed, JobState.cancelled):
            status, error = SnapshotStatus.failed, job.error or f"job {job.state}"
    return SnapshotRead(
        id=snapshot.id,
        project_id=snapshot.project_id,
        name=snapshot.name,
        spec=snapshot.spec,
        status=status,
        job_id=snapshot.job_id,
        content_hash=snapshot.content_hash,
        counts=snapshot.counts,
        error=error,
        created_by=snapshot.created_by,
        created_at=snapshot.created_at,
        finished_at=snapshot.finished_at,
    )


def ready_dir(snapshot: Snapshot) -> Path:
    """The folder of a ready snapshot, or 409 while it builds (or if it failed)."""
    if snapshot.status != SnapshotStatus.ready or snapshot.job_id is None:
        raise Conflict(f"Snapshot {snapshot.id} is {snapshot.status}, not ready.")
    path = store.safe_path(snapshot.job_id, SNAPSHOT_DIR)
    if not (path / "manifest.json").is_file():
        raise Conflict(f"Snapshot {snapshot.id} has no files; rebuild it.")
    return path
