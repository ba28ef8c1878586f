"""Snapshots over REST: create (a job builds it), list, read, manifest, and export downloads."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Query, status
from fastapi.responses import StreamingResponse

from app.datasets import exports, service
from app.datasets.schemas import SnapshotRead
from app.datasets.spec import SnapshotCreate
from app.deps import CurrentPrincipal, DbSession
from app.errors import error_responses
from app.projects.access import project_for
from app.projects.models import ProjectRole
from app.types import IdPath

router = APIRouter(prefix="/api", tags=["datasets"])


class ExportLayout(StrEnum):
    """Which columns an export has (see ``app/datasets/exports.py``)."""

    preference = "preference"
    preference_conversational = "preference_conversational"
    sft = "sft"
    sft_conversational = "sft_conversational"
    pairs = "pairs"
    raw = "raw"


class ExportFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"
    parquet = "parquet"
    datasets = "datasets"


# The enums exist for the OpenAPI schema (and the generated client); the exporter is the authority.
assert [e.value for e in ExportLayout] == list(exports.LAYOUTS)
assert [e.value for e in ExportFormat] == list(exports.FORMATS)


@router.post(
    "/projects/{project_id}/snapshots",
    response_model=SnapshotRead,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 404, 422),
)
def create_snapshot(
    project_id: IdPath, body: SnapshotCreate, principal: CurrentPrincipal, session: DbSession
) -> SnapshotRead:
    """Freeze the project's labels into a dataset: a snapshot job builds its files (watch ``job_id``)."""
    access = project_for(session, principal, project_id, ProjectRole.manager)
    return service.to_read(session, service.create_snapshot(session, access, body, principal.user_id))


@router.get(
    "/projects/{project_id}/snapshots", response_model=list[SnapshotRead], responses=error_responses(401, 403, 404)
)
def list_snapshots(project_id: IdPath, principal: CurrentPrincipal, session: DbSession) -> list[SnapshotRead]:
    """The project's snapshots, newest first."""
    project_for(session, principal, project_id, ProjectRole.manager)
    return [service.to_read(session, s) for s in service.list_snapshots(session, project_id)]


@router.get("/snapshots/{snapshot_id}", response_model=SnapshotRead, responses=error_responses(401, 403, 404))
def get_snapshot(snapshot_id: IdPath, principal: CurrentPrincipal, session: DbSession) -> SnapshotRead:
    """One snapshot: status, counts per table and split, content hash."""
    return service.to_read(session, service.snapshot_for(session, principal, snapshot_id))


@router.get("/snapshots/{snapshot_id}/manifest", responses=error_responses(401, 403, 404, 409))
def get_manifest(snapshot_id: IdPath, principal: CurrentPrincipal, session: DbSession) -> dict[str, Any]:
    """The manifest: spec, counts, hash, the schema of each table, reliability weights used."""
    snapshot = service.snapshot_for(session, principal, snapshot_id)
    manifest: dict[str, Any] = json.loads((service.ready_dir(snapshot) / "manifest.json").read_text())
    return manifest


@router.get(
    "/snapshots/{snapshot_id}/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}, **error_responses(401, 403, 404, 409, 422)},
)
def export_snapshot(
    snapshot_id: IdPath,
    principal: CurrentPrincipal,
    session: DbSession,
    layout: ExportLayout = Query(ExportLayout.preference, description="Which columns: see the docs."),
    format: ExportFormat = Query(ExportFormat.jsonl),
    split: Literal["train", "validation", "test"] | None = Query(None, description="Default: every split."),
    with_margin: bool = Query(False, description="Add the margin column (preference layouts)."),
    include_ties: bool = Query(False, description="Also export tie rows (preference layouts)."),
) -> StreamingResponse:
    """Download a ready snapshot in a trainer's format, streamed (memory stays flat at any size).

    ``preference`` / ``preference_conversational`` are TRL's standard and conversational preference
    formats; ``sft`` / ``sft_conversational`` its prompt-completion formats; ``pairs`` and ``raw`` every
    column. ``datasets`` is a ``save_to_disk`` folder, sent as a tar archive.
    """
    snapshot = service.snapshot_for(session, principal, snapshot_id)
    folder = service.ready_dir(snapshot)
    options: dict[str, Any] = {"split": split, "with_margin": with_margin, "include_ties": include_ties}
    exports.check_options(layout, format, **options)
    name = exports.file_name_for(snapshot.id, layout, format, split)
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if format == ExportFormat.datasets:
        body: Iterator[bytes] = _datasets_tar(folder, layout, options)
    else:
        body = exports.iter_export(folder, layout, format, **options)
    return StreamingResponse(body, media_type=exports.content_type_for(format), headers=headers)


def _datasets_tar(folder: Path, layout: str, options: dict[str, Any]) -> Iterator[bytes]:
    tmp = Path(tempfile.mkdtemp(prefix="prefloop-export-"))
    try:
        out = tmp / "dataset"
        exports.write_datasets_dir(folder, layout, out, **options)
        yield from exports.iter_tar(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
