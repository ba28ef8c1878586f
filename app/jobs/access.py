"""Who may see and drive a job: admins all; project managers the jobs of their projects."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.errors import Forbidden, NotFound
from app.jobs.models import Job
from app.jobs.service import get_job
from app.projects.access import project_for
from app.projects.models import ProjectMember, ProjectRole


def managed_project_ids(session: Session, principal: Principal) -> list[int] | None:
    """None means every project (admin)."""
    if principal.is_admin:
        return None
    stmt = select(ProjectMember.project_id).where(
        ProjectMember.user_id == principal.user_id, ProjectMember.role == ProjectRole.manager
    )
    return list(session.scalars(stmt))


def check_can_launch(session: Session, principal: Principal, project_id: int | None) -> None:
    if project_id is None:
        if not principal.is_admin:
            raise Forbidden("Only an admin may launch a job outside a project.")
        return
    project_for(session, principal, project_id, ProjectRole.manager)


def job_for(session: Session, principal: Principal, job_id: int) -> Job:
    job = get_job(session, job_id)
    if principal.is_admin:
        return job
    if job.project_id is None:
        raise NotFound(f"Job {job_id} not found.")
    project_for(session, principal, job.project_id, ProjectRole.manager)
    return job
