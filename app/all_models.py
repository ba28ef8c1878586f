"""Every ORM model, imported once so metadata (and Alembic) sees the whole schema."""

from app.annotation.models import Assignment, Item, Label
from app.auth.models import ApiToken, BrowserSession, User
from app.db import Base
from app.jobs.models import Job, JobLog, JobMetric
from app.projects.models import Project, ProjectMember
from app.prompts.models import Candidate, Prompt
from app.registry.models import ModelVersion

__all__ = [
    "ApiToken",
    "Assignment",
    "Base",
    "BrowserSession",
    "Candidate",
    "Item",
    "Job",
    "JobLog",
    "JobMetric",
    "Label",
    "ModelVersion",
    "Project",
    "ProjectMember",
    "Prompt",
    "User",
]
