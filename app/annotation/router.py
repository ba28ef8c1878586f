"""The annotator's loop (next, label, skip, edit), their own labels, and progress."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from sqlalchemy.orm import Session

from app.annotation import labeling, queue, repository
from app.annotation.models import Assignment
from app.annotation.progress import (
    AnnotatorProgress,
    ProjectProgress,
    annotator_progress,
    project_progress,
    time_zone,
)
from app.annotation.schemas import AssignmentRead, LabelPage, LabelRead, LabelSubmit, SkipRequest
from app.annotation.views import assignment_view
from app.auth.principal import Principal
from app.db import utcnow
from app.deps import CurrentPrincipal, DbSession, in_one_hop
from app.errors import NotFound, error_responses
from app.projects.access import ProjectAccess, project_for
from app.projects.models import ProjectRole
from app.types import MAX_ID, IdPath

TimeZoneName = Annotated[
    str,
    Query(
        min_length=1,
        max_length=64,
        description="IANA time zone whose midnight starts 'today' (e.g. Europe/Berlin); UTC when not given.",
    ),
]

router = APIRouter(prefix="/api", tags=["annotation"])


def _own_assignment(
    session: Session, principal: Principal, assignment_id: IdPath, *, lock: bool = True
) -> tuple[Assignment, ProjectAccess]:
    assignment = repository.own_assignment(session, principal.user_id, assignment_id, lock=lock)
    if assignment is None:
        raise NotFound(f"Assignment {assignment_id} not found.")
    return assignment, project_for(session, principal, assignment.project_id)


@router.post(
    "/projects/{project_id}/next",
    response_model=AssignmentRead,
    responses={204: {"description": "Nothing left for you in this project."}, **error_responses(401, 403, 404)},
)
async def next_item(project_id: IdPath, request: Request) -> Response:
    """Lease me the next item to label (204 when none is left for me).

    Never an item I was given before; at most two open leases at once (the one on screen and one
    prefetched); asking again while holding two returns the oldest.
    """

    def work(session: Session, principal: Principal) -> bytes | None:
        access = project_for(session, principal, project_id)
        now = utcnow()
        assignment = queue.next_assignment(session, access, principal.user_id, now)
        if assignment is None:
            return None
        return assignment_view(session, assignment, fresh=assignment.leased_at == now).model_dump_json().encode()

    body = await in_one_hop(request, work)
    if body is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    return Response(body, media_type="application/json")


@router.get(
    "/projects/{project_id}/assignments/mine", response_model=list[AssignmentRead], responses=error_responses(401, 404)
)
def my_open_assignments(project_id: IdPath, principal: CurrentPrincipal, session: DbSession) -> list[AssignmentRead]:
    """My leases in this project that are still open (oldest first), e.g. to resume after a reload."""
    project_for(session, principal, project_id)
    leases = repository.live_leases(session, principal.user_id, project_id, utcnow())
    return [assignment_view(session, a, fresh=True) for a in leases]


@router.get("/assignments/{assignment_id}", response_model=AssignmentRead, responses=error_responses(401, 404))
def get_assignment(assignment_id: IdPath, principal: CurrentPrincipal, session: DbSession) -> AssignmentRead:
    """One of my assignments, with my label if I gave one."""
    assignment, _ = _own_assignment(session, principal, assignment_id, lock=False)
    return assignment_view(session, assignment)


@router.post(
    "/assignments/{assignment_id}/label",
    response_model=LabelRead,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": LabelRead, "description": "Already stored (a retry)."},
        **error_responses(401, 404, 409, 422),
    },
)
async def submit_label(assignment_id: IdPath, body: LabelSubmit, request: Request) -> Response:
    """Submit my label for this assignment. Idempotent: a retry returns the stored label with 200."""

    def work(session: Session, principal: Principal) -> tuple[bytes, bool]:
        assignment, access = _own_assignment(session, principal, assignment_id)
        label, created = labeling.submit_label(session, access.project, assignment, body, utcnow())
        return LabelRead.model_validate(label).model_dump_json().encode(), created

    content, created = await in_one_hop(request, work)
    return Response(content, status_code=201 if created else 200, media_type="application/json")


@router.post(
    "/assignments/{assignment_id}/skip",
    response_model=AssignmentRead,
    responses=error_responses(401, 404, 409),
)
def skip_item(
    assignment_id: IdPath, body: SkipRequest, principal: CurrentPrincipal, session: DbSession
) -> AssignmentRead:
    """Pass on this item; I will not be given it again."""
    assignment, _ = _own_assignment(session, principal, assignment_id)
    labeling.skip(session, assignment, body, utcnow())
    return assignment_view(session, assignment)


@router.post(
    "/assignments/{assignment_id}/extend",
    response_model=AssignmentRead,
    responses=error_responses(401, 404, 409),
)
def extend_lease(assignment_id: IdPath, principal: CurrentPrincipal, session: DbSession) -> AssignmentRead:
    """Keep this item reserved for me for another lease period (only while the lease is live)."""
    assignment, access = _own_assignment(session, principal, assignment_id)
    labeling.extend_lease(assignment, access.project, utcnow())
    session.flush()
    return assignment_view(session, assignment)


@router.patch("/labels/{label_id}", response_model=LabelRead, responses=error_responses(401, 404, 409, 422))
def edit_label(label_id: IdPath, body: LabelSubmit, principal: CurrentPrincipal, session: DbSession) -> LabelRead:
    """Change my label; allowed until the item has all the labels it needs."""
    label = repository.own_label(session, principal.user_id, label_id)
    if label is None:
        raise NotFound(f"Label {label_id} not found.")
    access = project_for(session, principal, label.project_id)
    return LabelRead.model_validate(labeling.edit_label(session, access.project, label, body))


@router.get("/projects/{project_id}/labels/mine", response_model=LabelPage, responses=error_responses(401, 404))
def my_labels(
    project_id: IdPath,
    principal: CurrentPrincipal,
    session: DbSession,
    after: int = Query(0, ge=0, le=MAX_ID, description="Return labels with a larger id (cursor)."),
    limit: int = Query(100, ge=1, le=1000),
) -> LabelPage:
    """My labels in this project, oldest first."""
    project_for(session, principal, project_id)
    labels = repository.own_labels(session, principal.user_id, project_id, after, limit)
    return LabelPage(
        items=[LabelRead.model_validate(lab) for lab in labels],
        next_cursor=labels[-1].id if len(labels) == limit else None,
    )


@router.get("/projects/{project_id}/progress", response_model=ProjectProgress, responses=error_responses(401, 404))
def get_progress(project_id: IdPath, principal: CurrentPrincipal, session: DbSession) -> ProjectProgress:
    """Project-wide counts: items, labels, completion, labels per hour."""
    project_for(session, principal, project_id)
    return project_progress(session, project_id, utcnow())


@router.get(
    "/projects/{project_id}/progress/annotators",
    response_model=list[AnnotatorProgress],
    responses=error_responses(401, 403, 404, 422),
)
def get_annotator_progress(
    project_id: IdPath, principal: CurrentPrincipal, session: DbSession, tz: TimeZoneName = "UTC"
) -> list[AnnotatorProgress]:
    """Per-annotator counts (manager or admin)."""
    project_for(session, principal, project_id, ProjectRole.manager)
    return annotator_progress(session, project_id, utcnow(), zone=time_zone(tz))


@router.get(
    "/projects/{project_id}/progress/me",
    response_model=AnnotatorProgress,
    responses=error_responses(401, 404, 422),
)
def get_my_progress(
    project_id: IdPath, principal: CurrentPrincipal, session: DbSession, tz: TimeZoneName = "UTC"
) -> AnnotatorProgress:
    """My own counts in this project (today, last hour, total)."""
    project_for(session, principal, project_id)
    return annotator_progress(session, project_id, utcnow(), principal.user_id, zone=time_zone(tz))[0]
