"""Quality over REST: agreement reports, the annotator table, disagreements to review, gold items,
adjudication and re-queueing. Reviewers review; managers see annotators and change the data."""

from __future__ import annotations

from fastapi import APIRouter, Query, status
from sqlalchemy import select

from app.annotation.models import Item
from app.db import utcnow
from app.deps import CurrentPrincipal, DbSession
from app.errors import AppError, error_responses
from app.projects.access import project_for
from app.projects.models import ProjectRole
from app.quality import review, service
from app.quality.annotators import FlagThresholds
from app.quality.schemas import (
    AdjudicationRead,
    AdjudicationWrite,
    AnnotatorQuality,
    GoldImport,
    GoldResult,
    GoldWrite,
    ItemAgreementPage,
    ProjectItem,
    ProjectItemPage,
    QualityReport,
    RequeueRequest,
    RequeueResult,
    ReviewItem,
)
from app.types import MAX_ID, IdPath

router = APIRouter(prefix="/api/projects/{project_id}", tags=["quality"])


@router.get("/quality", response_model=QualityReport, responses=error_responses(401, 403, 404))
def quality_report(project_id: IdPath, principal: CurrentPrincipal, session: DbSession) -> QualityReport:
    """Agreement for the project's task kind (Krippendorff's alpha, Fleiss'/Cohen's kappa, percent
    agreement, Kendall's W / tau), its distribution over items and its course day by day."""
    access = project_for(session, principal, project_id, ProjectRole.reviewer)
    return service.project_report(session, access.project)


@router.get("/quality/annotators", response_model=list[AnnotatorQuality], responses=error_responses(401, 403, 404))
def annotator_quality(
    project_id: IdPath,
    principal: CurrentPrincipal,
    session: DbSession,
    fast_ms: int = Query(3000, ge=0, le=3_600_000, description="An answer quicker than this counts as fast."),
    max_fast_share: float = Query(0.25, ge=0, le=1),
    min_gold_accuracy: float = Query(0.7, ge=0, le=1),
    min_consensus_agreement: float = Query(0.6, ge=0, le=1),
    position_bias_p: float = Query(0.01, gt=0, le=1, description="Flag first-position picks this unlikely by chance."),
    min_evidence: int = Query(10, ge=1, le=100_000, description="Judgements needed before a flag is raised."),
) -> list[AnnotatorQuality]:
    """Per annotator: gold accuracy, agreement with consensus, position bias, speed, reliability
    weight and flags (flagged first). Pause someone with ``PUT /members/{user_id}``."""
    access = project_for(session, principal, project_id, ProjectRole.manager)
    th = FlagThresholds(
        fast_ms, max_fast_share, min_gold_accuracy, min_consensus_agreement, position_bias_p, min_evidence
    )
    return service.annotator_table(session, access.project, th)


@router.get("/quality/items", response_model=ItemAgreementPage, responses=error_responses(401, 403, 404))
def disagreements(
    project_id: IdPath,
    principal: CurrentPrincipal,
    session: DbSession,
    max_agreement: float = Query(0.75, ge=0, le=1, description="Items agreeing less than this."),
    include_adjudicated: bool = False,
    after: int = Query(0, ge=0, le=MAX_ID),
    limit: int = Query(50, ge=1, le=500),
) -> ItemAgreementPage:
    """Items whose annotators disagree: the review queue."""
    access = project_for(session, principal, project_id, ProjectRole.reviewer)
    items, cursor = service.disagreements(
        session,
        access.project,
        max_agreement=max_agreement,
        after=after,
        limit=limit,
        include_adjudicated=include_adjudicated,
    )
    return ItemAgreementPage(items=items, next_cursor=cursor)


@router.get("/review/items/{item_id}", response_model=ReviewItem, responses=error_responses(401, 403, 404))
def review_item(project_id: IdPath, item_id: IdPath, principal: CurrentPrincipal, session: DbSession) -> ReviewItem:
    """An item with every annotator's label, the gold answer and any adjudication."""
    access = project_for(session, principal, project_id, ProjectRole.reviewer)
    return review.review_item(session, access.project, review.project_item(session, project_id, item_id))


@router.put(
    "/items/{item_id}/adjudication", response_model=AdjudicationRead, responses=error_responses(401, 403, 404, 422)
)
def adjudicate(
    project_id: IdPath, item_id: IdPath, body: AdjudicationWrite, principal: CurrentPrincipal, session: DbSession
) -> AdjudicationRead:
    """Decide an item: this answer wins over the annotators' in every later snapshot."""
    access = project_for(session, principal, project_id, ProjectRole.reviewer)
    item = review.project_item(session, project_id, item_id)
    adj = review.adjudicate(session, access.project, item, body, principal.user_id, utcnow())
    return review.to_adjudication_read(adj)


@router.delete(
    "/items/{item_id}/adjudication", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(401, 403, 404)
)
def remove_adjudication(project_id: IdPath, item_id: IdPath, principal: CurrentPrincipal, session: DbSession) -> None:
    """Withdraw an adjudication: the annotators' consensus counts again."""
    project_for(session, principal, project_id, ProjectRole.reviewer)
    review.remove_adjudication(session, review.project_item(session, project_id, item_id))


@router.get("/items", response_model=ProjectItemPage, responses=error_responses(401, 403, 404))
def list_items(
    project_id: IdPath,
    principal: CurrentPrincipal,
    session: DbSession,
    gold: bool | None = Query(None, description="Only gold (true) or only normal (false) items."),
    prompt_id: int | None = Query(None, ge=1, le=MAX_ID),
    after: int = Query(0, ge=0, le=MAX_ID),
    limit: int = Query(100, ge=1, le=1000),
) -> ProjectItemPage:
    """The project's items with their candidates (in display order), for choosing gold items."""
    project_for(session, principal, project_id, ProjectRole.manager)
    stmt = select(Item).where(Item.project_id == project_id, Item.id > after)
    if gold is not None:
        stmt = stmt.where(Item.is_gold.is_(gold))
    if prompt_id is not None:
        stmt = stmt.where(Item.prompt_id == prompt_id)
    items = list(session.scalars(stmt.order_by(Item.id).limit(limit)))
    return ProjectItemPage(
        items=[_project_item(i) for i in items], next_cursor=items[-1].id if len(items) == limit else None
    )


def _project_item(item: Item) -> ProjectItem:
    return ProjectItem(
        id=item.id,
        prompt_id=item.prompt_id,
        candidate_ids=list(item.candidate_ids),
        is_gold=item.is_gold,
        gold_answer=item.gold_answer,
        overlap=item.overlap,
        labels_done=item.labels_done,
    )


@router.put("/items/{item_id}/gold", response_model=ProjectItem, responses=error_responses(401, 403, 404, 422))
def mark_gold(
    project_id: IdPath, item_id: IdPath, body: GoldWrite, principal: CurrentPrincipal, session: DbSession
) -> ProjectItem:
    """Make an item gold with its known answer. Annotators get it mixed in at the project's gold
    ratio, looking like any other item; their answers measure their accuracy."""
    access = project_for(session, principal, project_id, ProjectRole.manager)
    item = review.project_item(session, project_id, item_id, lock=True)
    return _project_item(review.mark_gold(session, access.project, item, body.answer))


@router.delete("/items/{item_id}/gold", response_model=ProjectItem, responses=error_responses(401, 403, 404))
def unmark_gold(project_id: IdPath, item_id: IdPath, principal: CurrentPrincipal, session: DbSession) -> ProjectItem:
    """Make a gold item a normal one again."""
    project_for(session, principal, project_id, ProjectRole.manager)
    return _project_item(review.unmark_gold(session, review.project_item(session, project_id, item_id, lock=True)))


@router.post("/gold", response_model=GoldResult, responses=error_responses(401, 403, 404, 422))
def import_gold(project_id: IdPath, body: GoldImport, principal: CurrentPrincipal, session: DbSession) -> GoldResult:
    """Mark many items gold at once; all or nothing (an error names the entry)."""
    access = project_for(session, principal, project_id, ProjectRole.manager)
    for n, entry in enumerate(body.items):
        item = review.project_item(session, project_id, entry.item_id, lock=True)
        try:
            review.mark_gold(session, access.project, item, entry.answer)
        except AppError as exc:
            exc.detail = f"items[{n}] (item {entry.item_id}): {exc.detail}"
            exc.field = f"items.{n}.{exc.field}" if exc.field else f"items.{n}"
            raise
    return GoldResult(marked=len(body.items))


@router.post("/items/requeue", response_model=RequeueResult, responses=error_responses(401, 403, 404, 422))
def requeue(project_id: IdPath, body: RequeueRequest, principal: CurrentPrincipal, session: DbSession) -> RequeueResult:
    """Send low-agreement items back for more labels: their overlap grows by ``extra_labels``."""
    access = project_for(session, principal, project_id, ProjectRole.manager)
    ids = review.requeue_low_agreement(
        session, access.project, max_agreement=body.max_agreement, extra_labels=body.extra_labels, limit=body.limit
    )
    return RequeueResult(requeued=len(ids), item_ids=ids)
