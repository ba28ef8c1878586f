"""Assemble what an annotator sees for an assignment (prompt, candidates in display order, own label)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.annotation import repository
from app.annotation.models import Assignment, Item
from app.annotation.schemas import AssignmentRead, CandidateView, ItemView, LabelRead, PromptView
from app.errors import NotFound
from app.prompts.models import Candidate, Prompt


def item_view(session: Session, item: Item) -> ItemView:
    # One round trip for the prompt and its candidates.
    rows = session.execute(
        select(Candidate.id, Candidate.text, Prompt.id, Prompt.text, Prompt.messages)
        .join(Prompt, Prompt.id == Candidate.prompt_id)
        .where(Candidate.id.in_(item.candidate_ids))
    ).all()
    if not rows:
        raise NotFound("The item's prompt or candidates no longer exist.")
    texts = {row[0]: row[1] for row in rows}
    _, _, prompt_id, prompt_text, messages = rows[0]
    return ItemView(
        id=item.id,
        prompt=PromptView(id=prompt_id, text=prompt_text, messages=messages),
        candidates=[CandidateView(id=cid, text=texts.get(cid, "")) for cid in item.candidate_ids],
    )


def assignment_view(session: Session, assignment: Assignment, *, fresh: bool = False) -> AssignmentRead:
    """``fresh``: the lease was just made, so there is no label to look up."""
    item = session.get(Item, assignment.item_id)
    if item is None:
        raise NotFound("The item no longer exists.")
    label = None if fresh else repository.label_for(session, item.id, assignment.user_id)
    return AssignmentRead(
        id=assignment.id,
        project_id=assignment.project_id,
        state=assignment.state,
        leased_at=assignment.leased_at,
        expires_at=assignment.expires_at,
        item=item_view(session, item),
        label=LabelRead.model_validate(label) if label else None,
    )
