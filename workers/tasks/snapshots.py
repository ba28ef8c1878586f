"""The snapshot job: build a snapshot's Parquet files and manifest from the project's labels.

Idempotent: a re-run (after a crash) rebuilds into a fresh staging folder and replaces the files
in one rename; the snapshot row turns ready only in the transaction that records the hash.
"""

from __future__ import annotations

import shutil

from sqlalchemy import update

from app.artifacts import store
from app.datasets.builder import build_snapshot
from app.datasets.models import Snapshot, SnapshotStatus
from app.datasets.service import SNAPSHOT_DIR
from app.db import session_scope, utcnow
from app.jobs.kinds import SnapshotParams
from workers.celery_app import celery_app
from workers.tasks.runtime import JobContext, run_job


@celery_app.task(name="prefloop.snapshot", acks_late=True)
def snapshot(job_id: int) -> None:
    """Build a dataset snapshot."""
    run_job(job_id, "snapshot", run_snapshot)


def run_snapshot(ctx: JobContext) -> None:
    params = SnapshotParams.model_validate(ctx.params)
    staged = store.staging_dir(ctx.job_id, SNAPSHOT_DIR)
    try:
        with session_scope(write=False) as session:
            snap = session.get(Snapshot, params.snapshot_id)
            if snap is None or snap.project_id != ctx.project_id:
                raise ValueError(f"snapshot {params.snapshot_id} does not belong to this job's project")
            result = build_snapshot(
                session,
                snap,
                staged,
                progress=lambda done, total: ctx.progress(done, total),
                check_cancel=ctx.check_cancel,
            )
        store.commit_dir(ctx.job_id, staged, SNAPSHOT_DIR)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        with session_scope() as session:
            session.execute(
                update(Snapshot)
                .where(Snapshot.id == params.snapshot_id, Snapshot.status == SnapshotStatus.building)
                .values(status=SnapshotStatus.failed, finished_at=utcnow())
            )
        raise
    with session_scope() as session:
        session.execute(
            update(Snapshot)
            .where(Snapshot.id == params.snapshot_id)
            .values(
                status=SnapshotStatus.ready,
                content_hash=result.content_hash,
                counts=result.counts,
                job_id=ctx.job_id,
                finished_at=utcnow(),
            )
        )
    ctx.result.update({"snapshot_id": params.snapshot_id, "hash": result.content_hash, "counts": result.counts})
    ctx.log(f"snapshot {params.snapshot_id}: {result.counts['pairs']} pairs, hash {result.content_hash[:12]}")
