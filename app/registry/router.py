"""The model registry over REST."""

from __future__ import annotations

from fastapi import APIRouter, Query, status
from sqlalchemy import select

from app.deps import AdminPrincipal, CurrentPrincipal, DbSession
from app.errors import NotFound, error_responses
from app.jobs.kinds import JobKind
from app.jobs.service import create_job
from app.projects.access import project_for, require_project_staff, reviewed_project_ids
from app.projects.models import ProjectRole
from app.registry.leaderboard import LeaderboardEntry, leaderboard
from app.registry.models import ModelKind, ModelStatus, ModelVersion
from app.registry.schemas import ModelRegister, ModelRegistered, ModelVersionRead
from app.types import MAX_ID, IdPath

router = APIRouter(prefix="/api/models", tags=["registry"])


@router.post(
    "", response_model=ModelRegistered, status_code=status.HTTP_201_CREATED, responses=error_responses(401, 403, 422)
)
def register_model(body: ModelRegister, admin: AdminPrincipal, session: DbSession) -> ModelRegistered:
    """Register a base model by Hugging Face id or local path (admin). It is `pending` until a worker has
    loaded its config and tokenizer; then `ready`, or `invalid` with the reason."""
    version = ModelVersion(
        name=body.name,
        kind=ModelKind.base,
        status=ModelStatus.pending,
        source=body.source,
        metrics={},
        info={},
        created_by=admin.user_id,
    )
    session.add(version)
    session.flush()
    job = create_job(
        session, JobKind.validate_model, {"model_version_id": version.id}, project_id=None, created_by=admin.user_id
    )
    version.info = {"validation_job_id": job.id}  # job_id stays for the job that *made* a version
    return ModelRegistered.model_validate(
        {**ModelVersionRead.model_validate(version).model_dump(), "validation_job_id": job.id}
    )


@router.get("", response_model=list[ModelVersionRead], responses=error_responses(401, 403, 422))
def list_models(
    principal: CurrentPrincipal, session: DbSession, kind: ModelKind | None = None
) -> list[ModelVersionRead]:
    """Every model version, with its lineage (parent, job, snapshot) and metrics (admins, and the reviewers
    and managers of a project)."""
    require_project_staff(session, principal, "the model registry")
    stmt = select(ModelVersion).order_by(ModelVersion.id)
    if kind is not None:
        stmt = stmt.where(ModelVersion.kind == kind)
    return [ModelVersionRead.model_validate(v) for v in session.scalars(stmt)]


@router.get("/leaderboard", response_model=list[LeaderboardEntry], responses=error_responses(401, 403, 404, 422))
def get_leaderboard(
    principal: CurrentPrincipal,
    session: DbSession,
    project_id: int | None = Query(None, ge=1, le=MAX_ID, description="Only this project's judgements."),
) -> list[LeaderboardEntry]:
    """Model versions ranked by human pairwise preferences between their responses (Bradley-Terry,
    Elo scale, 95% bootstrap intervals), from the pairwise projects (e.g. evaluation rounds) the caller
    reviews or manages (an admin: all of them); annotators judge blind and see no standings."""
    if project_id is not None:
        project_for(session, principal, project_id, ProjectRole.reviewer)
        return leaderboard(session, [project_id])
    if principal.is_admin:
        return leaderboard(session)
    return leaderboard(session, reviewed_project_ids(session, principal))


@router.get("/{model_id}", response_model=ModelVersionRead, responses=error_responses(401, 403, 404))
def get_model(model_id: IdPath, principal: CurrentPrincipal, session: DbSession) -> ModelVersionRead:
    """One model version (admins, and the reviewers and managers of a project)."""
    require_project_staff(session, principal, "the model registry")
    version = session.get(ModelVersion, model_id)
    if version is None:
        raise NotFound(f"Model version {model_id} not found.")
    return ModelVersionRead.model_validate(version)
