"""Jobs over REST: launch, list, watch (progress, metrics, logs) and cancel."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, status
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from app.artifacts import store
from app.db import utcnow
from app.deps import AdminPrincipal, CurrentPrincipal, DbSession
from app.errors import error_responses
from app.jobs import service
from app.jobs.access import check_can_launch, job_for, managed_project_ids
from app.jobs.kinds import SPECS, JobKind
from app.jobs.models import Job
from app.jobs.schemas import JobCreate, JobPage, JobRead, LogLine, MetricSeries
from app.jobs.states import JobState
from app.types import MAX_ID, IdPath

router = APIRouter(prefix="/api/jobs", tags=["jobs"])


@router.post(
    "", response_model=JobRead, status_code=status.HTTP_201_CREATED, responses=error_responses(401, 403, 404, 422)
)
def create_job(body: JobCreate, principal: CurrentPrincipal, session: DbSession) -> JobRead:
    """Launch a job. It is queued once this request commits; a worker of its queue picks it up."""
    check_can_launch(session, principal, body.project_id)
    job = service.create_job(session, body.kind, body.params, project_id=body.project_id, created_by=principal.user_id)
    return service.to_read(job, utcnow())


class JobKindInfo(BaseModel):
    kind: JobKind
    queue: str
    needs_project: bool
    description: str
    params_schema: dict[str, Any] = Field(description="JSON Schema of the kind's params (forms are built from it).")


@router.get("/kinds", response_model=list[JobKindInfo], responses=error_responses(401))
def job_kinds(_principal: CurrentPrincipal) -> list[JobKindInfo]:
    """Every kind of job, with the JSON Schema of its parameters."""
    return [
        JobKindInfo(
            kind=kind,
            queue=spec.queue,
            needs_project=spec.needs_project,
            description=(spec.params.__doc__ or "").strip(),
            params_schema=spec.params.model_json_schema(),
        )
        for kind, spec in SPECS.items()
    ]


@router.get("", response_model=JobPage, responses=error_responses(401, 403))
def list_jobs(
    principal: CurrentPrincipal,
    session: DbSession,
    kind: JobKind | None = None,
    state: JobState | None = None,
    project_id: int | None = Query(None, ge=1, le=MAX_ID),
    before: int | None = Query(None, ge=1, le=MAX_ID, description="Cursor: jobs with a smaller id."),
    limit: int = Query(50, ge=1, le=500),
) -> JobPage:
    """Jobs I may see (all for admins; those of projects I manage otherwise), newest first."""
    stmt = service.list_statement(
        kind=kind, state=state, project_ids=managed_project_ids(session, principal), project_id=project_id
    )
    if before is not None:
        stmt = stmt.where(Job.id < before)
    jobs = list(session.scalars(stmt.order_by(Job.id.desc()).limit(limit)))
    now = utcnow()
    return JobPage(
        items=[service.to_read(j, now) for j in jobs], next_cursor=jobs[-1].id if len(jobs) == limit else None
    )


@router.get("/{job_id}", response_model=JobRead, responses=error_responses(401, 403, 404))
def get_job(job_id: IdPath, principal: CurrentPrincipal, session: DbSession) -> JobRead:
    """One job: state, progress and ETA, worker, timings, error."""
    return service.to_read(job_for(session, principal, job_id), utcnow())


@router.post("/{job_id}/cancel", response_model=JobRead, responses=error_responses(401, 403, 404, 409))
def cancel_job(job_id: IdPath, principal: CurrentPrincipal, session: DbSession) -> JobRead:
    """Cancel: a queued job at once; a running one stops at its next batch or step."""
    now = utcnow()
    return service.to_read(service.cancel_job(session, job_for(session, principal, job_id), now), now)


@router.get("/{job_id}/metrics", response_model=list[MetricSeries], responses=error_responses(401, 403, 404))
def job_metrics(
    job_id: IdPath,
    principal: CurrentPrincipal,
    session: DbSession,
    name: str | None = Query(None, max_length=64),
) -> list[MetricSeries]:
    """Curves recorded by the job, one series per metric name (steps and values)."""
    job_for(session, principal, job_id)
    return service.metrics(session, job_id, name)


@router.get("/{job_id}/logs", response_model=list[LogLine], responses=error_responses(401, 403, 404))
def job_logs(
    job_id: IdPath,
    principal: CurrentPrincipal,
    session: DbSession,
    after: int = Query(0, ge=0, le=MAX_ID, description="Only lines after this id (for polling)."),
    limit: int = Query(200, ge=1, le=2000),
) -> list[LogLine]:
    """The log tail (or the lines after a cursor)."""
    job_for(session, principal, job_id)
    return [LogLine.model_validate(line) for line in service.log_tail(session, job_id, after, limit)]


@router.post("/reap", response_model=dict[str, int], responses=error_responses(401, 403))
def reap_jobs(_admin: AdminPrincipal, session: DbSession) -> dict[str, int]:
    """Re-queue or fail jobs whose worker went silent, now (the API also does this every 30 s)."""
    return service.reap(session, utcnow())


class ArtifactFile(BaseModel):
    path: str
    size: int


@router.get("/{job_id}/artifacts", response_model=list[ArtifactFile], responses=error_responses(401, 403, 404))
def list_artifacts(job_id: IdPath, principal: CurrentPrincipal, session: DbSession) -> list[ArtifactFile]:
    """Files the job wrote to the artifact store (checkpoints, snapshots, exports)."""
    job_for(session, principal, job_id)
    return [ArtifactFile(path=p, size=n) for p, n in store.list_files(job_id)]


@router.get(
    "/{job_id}/artifacts/{path:path}", response_class=FileResponse, responses=error_responses(401, 403, 404, 422)
)
def download_artifact(job_id: IdPath, path: str, principal: CurrentPrincipal, session: DbSession) -> FileResponse:
    """Download one of the job's files. Paths never leave the job's folder."""
    job_for(session, principal, job_id)
    target = store.open_for_download(job_id, path)
    return FileResponse(target, filename=target.name)
