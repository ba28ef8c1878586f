"""candidate lineage

Revision ID: a3fb4bd9a5c1
Revises: 613dc4932c68
Create Date: 2026-11-23 10:39:27.111645
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db
import app.types

revision: str = "a3fb4bd9a5c1"
down_revision: str | None = "613dc4932c68"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("candidates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("model_version_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("job_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_candidates_job_id", ["job_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_candidates_model_version_id_model_versions"),
            "model_versions",
            ["model_version_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_candidates_job_id_jobs"), "jobs", ["job_id"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("candidates", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_candidates_job_id_jobs"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_candidates_model_version_id_model_versions"), type_="foreignkey")
        batch_op.drop_index("ix_candidates_job_id")
        batch_op.drop_column("job_id")
        batch_op.drop_column("model_version_id")
