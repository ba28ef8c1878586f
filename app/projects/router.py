"""Projects and their members."""

from __future__ import annotations

from fastapi import APIRouter, status

from app.deps import AdminPrincipal, CurrentPrincipal, DbSession
from app.errors import error_responses
from app.projects import service
from app.projects.access import project_for, visible_projects
from app.projects.models import Project, ProjectRole
from app.projects.schemas import MemberRead, MemberUpsert, ProjectCreate, ProjectRead, ProjectUpdate
from app.types import IdPath

router = APIRouter(prefix="/api/projects", tags=["projects"])


def _read(project: Project, role: ProjectRole | str | None) -> ProjectRead:
    out = ProjectRead.model_validate(project)
    out.my_role = ProjectRole(role) if role else None
    return out


@router.post(
    "",
    response_model=ProjectRead,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 409, 422),
)
def create_project(body: ProjectCreate, admin: AdminPrincipal, session: DbSession) -> ProjectRead:
    """Create a project (admin only). The creator manages it through their admin role."""
    return _read(service.create_project(session, body, created_by=admin.user_id), None)


@router.get("", response_model=list[ProjectRead], responses=error_responses(401))
def list_projects(principal: CurrentPrincipal, session: DbSession) -> list[ProjectRead]:
    """Projects I can work on (all of them for admins), with my role in each."""
    return [_read(p, role) for p, role in session.execute(visible_projects(principal))]


@router.get("/{project_id}", response_model=ProjectRead, responses=error_responses(401, 404))
def get_project(project_id: IdPath, principal: CurrentPrincipal, session: DbSession) -> ProjectRead:
    """One project's settings and guidelines."""
    access = project_for(session, principal, project_id)
    return _read(access.project, access.role)


@router.patch("/{project_id}", response_model=ProjectRead, responses=error_responses(401, 403, 404, 409, 422))
def update_project(
    project_id: IdPath, body: ProjectUpdate, principal: CurrentPrincipal, session: DbSession
) -> ProjectRead:
    """Change a project's settings (manager or admin). A new overlap applies to unfinished items too."""
    access = project_for(session, principal, project_id, ProjectRole.manager)
    return _read(service.update_project(session, access.project, body), access.role)


@router.get("/{project_id}/members", response_model=list[MemberRead], responses=error_responses(401, 403, 404))
def list_members(project_id: IdPath, principal: CurrentPrincipal, session: DbSession) -> list[MemberRead]:
    """Who works on this project (manager or admin)."""
    project_for(session, principal, project_id, ProjectRole.manager)
    return service.list_members(session, project_id)


@router.put("/{project_id}/members", response_model=MemberRead, responses=error_responses(401, 403, 404, 422))
def upsert_member(
    project_id: IdPath, body: MemberUpsert, principal: CurrentPrincipal, session: DbSession
) -> MemberRead:
    """Add a member or change their role or paused flag (manager or admin)."""
    project_for(session, principal, project_id, ProjectRole.manager)
    return service.upsert_member(session, project_id, body)


@router.delete(
    "/{project_id}/members/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404),
)
def remove_member(project_id: IdPath, user_id: IdPath, principal: CurrentPrincipal, session: DbSession) -> None:
    """Remove a member; their labels stay."""
    project_for(session, principal, project_id, ProjectRole.manager)
    service.remove_member(session, project_id, user_id)
