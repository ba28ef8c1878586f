"""Create and change projects and their members."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.annotation.models import Item
from app.auth.models import User
from app.errors import Conflict, InvalidInput, NotFound
from app.projects.models import Project, ProjectMember, TaskKind
from app.projects.schemas import MemberRead, MemberUpsert, ProjectCreate, ProjectUpdate


def create_project(session: Session, data: ProjectCreate, *, created_by: int | None) -> Project:
    if session.scalar(select(Project.id).where(Project.name == data.name)) is not None:
        raise Conflict(f"A project named {data.name!r} already exists.", field="name")
    assert data.candidates_per_item is not None  # filled in by the schema
    project = Project(
        name=data.name,
        guidelines=data.guidelines,
        task_kind=data.task_kind,
        criteria=[c.model_dump() for c in data.criteria or []],
        candidates_per_item=data.candidates_per_item,
        overlap=data.overlap,
        lease_seconds=data.lease_seconds,
        gold_ratio=data.gold_ratio,
        grouping=data.grouping,
        max_items_per_prompt=data.max_items_per_prompt,
        seed=data.seed,
        created_by=created_by,
        archived=False,
    )
    session.add(project)
    session.flush()
    return project


def update_project(session: Session, project: Project, data: ProjectUpdate) -> Project:
    if data.name is not None and data.name != project.name:
        if session.scalar(select(Project.id).where(Project.name == data.name)) is not None:
            raise Conflict(f"A project named {data.name!r} already exists.", field="name")
        project.name = data.name
    if data.guidelines is not None:
        project.guidelines = data.guidelines
    if data.lease_seconds is not None:
        project.lease_seconds = data.lease_seconds
    if data.gold_ratio is not None:
        project.gold_ratio = data.gold_ratio
    if data.archived is not None:
        project.archived = data.archived
    if data.criteria is not None:
        if project.task_kind == TaskKind.rating and not data.criteria:
            raise InvalidInput("A rating project needs at least one criterion.", field="criteria")
        names = [c.name for c in data.criteria]
        if len(set(names)) != len(names):
            raise InvalidInput("Criteria names must be unique.", field="criteria")
        project.criteria = [c.model_dump() for c in data.criteria]
    if data.overlap is not None and data.overlap != project.overlap:
        _change_overlap(session, project, data.overlap)
    session.flush()
    return project


def _change_overlap(session: Session, project: Project, overlap: int) -> None:
    """Give every unfinished item the new overlap; its open slots move by the same amount."""
    delta = overlap - project.overlap
    session.execute(
        update(Item)
        .where(Item.project_id == project.id, Item.is_gold.is_(False))
        .values(overlap=overlap, open_slots=Item.open_slots + delta)
    )
    project.overlap = overlap


def list_members(session: Session, project_id: int) -> list[MemberRead]:
    rows = session.execute(
        select(User.id, User.username, User.display_name, ProjectMember.role, ProjectMember.paused)
        .join(ProjectMember, ProjectMember.user_id == User.id)
        .where(ProjectMember.project_id == project_id)
        .order_by(User.username)
    )
    return [MemberRead(user_id=r[0], username=r[1], display_name=r[2], role=r[3], paused=r[4]) for r in rows]


def upsert_member(session: Session, project_id: int, data: MemberUpsert) -> MemberRead:
    if data.user_id is not None:
        user = session.get(User, data.user_id)
    else:
        user = session.scalar(select(User).where(User.username == data.username))
    if user is None:
        raise NotFound(f"User {data.user_id or data.username!r} not found.", field="user_id")
    member = session.scalar(
        select(ProjectMember).where(ProjectMember.project_id == project_id, ProjectMember.user_id == user.id)
    )
    if member is None:
        member = ProjectMember(project_id=project_id, user_id=user.id, role=data.role, paused=data.paused)
        session.add(member)
    else:
        member.role = data.role
        member.paused = data.paused
    session.flush()
    return MemberRead(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=member.role,
        paused=member.paused,
    )


def remove_member(session: Session, project_id: int, user_id: int) -> None:
    member = session.scalar(
        select(ProjectMember).where(ProjectMember.project_id == project_id, ProjectMember.user_id == user_id)
    )
    if member is None:
        raise NotFound(f"User {user_id} is not a member of project {project_id}.")
    session.delete(member)
    session.flush()
