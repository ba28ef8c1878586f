"""Every ORM model, imported once so metadata (and Alembic) sees the whole schema."""

from app.annotation.models import Assignment, Item, Label
from app.auth.models import ApiToken, BrowserSession, LoginFailure, User
from app.datasets.models import Snapshot
from app.db import Base
from app.jobs.models import Job, JobLog, JobMetric
from app.projects.models import Project, ProjectMember
from app.prompts.models import Candidate, Prompt
from app.quality.models import Adjudication
from app.registry.models import ModelVersion

__all__ = [
    "Adjudication",
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
    "LoginFailure",
    "ModelVersion",
    "Project",
    "ProjectMember",
    "Prompt",
    "Snapshot",
    "User",
]
