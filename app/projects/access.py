"""The one place that decides which projects a caller may reach, and with what role.

A project the caller is not a member of is reported as not found (its existence is not leaked);
a member whose role is too low gets 403.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.errors import Forbidden, NotFound
from app.projects.models import Project, ProjectMember, ProjectRole

_RANK = {ProjectRole.annotator: 1, ProjectRole.reviewer: 2, ProjectRole.manager: 3}


@dataclass(frozen=True, slots=True)
class ProjectAccess:
    project: Project
    role: ProjectRole | None
    """The caller's membership role; None for an admin who is not a member."""
    is_admin: bool
    paused: bool = False

    @property
    def can_manage(self) -> bool:
        return self.is_admin or self.role == ProjectRole.manager

    @property
    def can_review(self) -> bool:
        return self.can_manage or self.role == ProjectRole.reviewer


def visible_projects(principal: Principal) -> Select[Project, str | None]:
    """Projects the caller may list, with their role in each."""
    member = select(ProjectMember).where(ProjectMember.user_id == principal.user_id).subquery()
    stmt = select(Project, member.c.role).outerjoin(member, member.c.project_id == Project.id)
    if not principal.is_admin:
        stmt = stmt.where(member.c.id.is_not(None))
    return stmt.order_by(Project.id)


def project_for(
    session: Session, principal: Principal, project_id: int, min_role: ProjectRole = ProjectRole.annotator
) -> ProjectAccess:
    row = session.execute(
        select(Project, ProjectMember.role, ProjectMember.paused)
        .outerjoin(
            ProjectMember,
            (ProjectMember.project_id == Project.id) & (ProjectMember.user_id == principal.user_id),
        )
        .where(Project.id == project_id)
    ).first()
    if row is None or (row[1] is None and not principal.is_admin):
        raise NotFound(f"Project {project_id} not found.")
    project, role, paused = row
    access = ProjectAccess(project, ProjectRole(role) if role else None, principal.is_admin, bool(paused))
    if not principal.is_admin and _RANK[ProjectRole(role)] < _RANK[min_role]:
        raise Forbidden(f"This needs the {min_role} role in project {project_id}.")
    return access


def reviewed_project_ids(session: Session, principal: Principal) -> list[int]:
    """The projects the caller reviews or manages (not an admin's implicit access to all)."""
    return list(
        session.scalars(
            select(ProjectMember.project_id).where(
                ProjectMember.user_id == principal.user_id,
                ProjectMember.role.in_([ProjectRole.reviewer, ProjectRole.manager]),
            )
        )
    )


def require_project_staff(session: Session, principal: Principal, what: str) -> None:
    """Admins, and users who review or manage some project, may read what is instance-wide but made from
    projects' data (the model registry: versions trained on snapshots, their evaluation metrics).
    Annotators only label, blind; they get 403."""
    if not principal.is_admin and not reviewed_project_ids(session, principal):
        raise Forbidden(f"Only admins and the reviewers or managers of a project may see {what}.")
