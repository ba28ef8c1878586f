"""login failures (the login lockout and per-address limit)

Revision ID: 63f5d7a7c052
Revises: 6bd8d9212997
Create Date: 2026-11-23 14:02:37.260663
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db
import app.types

revision: str = "63f5d7a7c052"
down_revision: str | None = "6bd8d9212997"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("client_ip", sa.String(length=64), nullable=False),
        sa.Column("failed_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.create_index("ix_login_failures_client_ip_failed_at", ["client_ip", "failed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_login_failures_failed_at"), ["failed_at"], unique=False)
        batch_op.create_index("ix_login_failures_username_failed_at", ["username", "failed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_login_failures_username_failed_at")
        batch_op.drop_index(batch_op.f("ix_login_failures_failed_at"))
        batch_op.drop_index("ix_login_failures_client_ip_failed_at")

    op.drop_table("login_failures")
