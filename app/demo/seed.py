"""The demo a newcomer finds after ``prefloop up``: a pairwise project with shipped prompts and
hand-written answers (labelable at once), later joined by candidates the tiny model generates."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.projects import service as project_service
from app.projects.models import Project, ProjectRole
from app.projects.schemas import MemberUpsert, ProjectCreate
from app.prompts.service import import_file

DEMO_PROMPTS = Path(__file__).resolve().parent / "prompts.jsonl"
DEMO_NAME = "Demo: which answer is better?"
GUIDELINES = """# Which answer is better?

You see a question and two answers. Pick the answer a careful, helpful expert would rather give.

- **Correct** beats confident: a wrong fact is worse than a short answer.
- **Helpful**: it answers what was asked, with the detail the question needs.
- **Kind and clear**: polite, plain language; code in code blocks.

Use **tie** only when you truly cannot choose, and the strength to say how sure you are
(1 slight, 2 clear, 3 strong). Flag an item if an answer is unsafe or both are unusable.
"""


def seed_demo(session: Session, admin_id: int) -> Project | None:
    """Create the demo project once, when the service has no project yet; returns it (or None)."""
    if session.scalar(select(Project.id).limit(1)) is not None:
        return None
    project = project_service.create_project(
        session,
        ProjectCreate(name=DEMO_NAME, task_kind="pairwise", guidelines=GUIDELINES, overlap=1, lease_seconds=600),
        created_by=admin_id,
    )
    project_service.upsert_member(session, project.id, MemberUpsert(user_id=admin_id, role=ProjectRole.manager))
    import_file(session, project, DEMO_PROMPTS)
    return project
