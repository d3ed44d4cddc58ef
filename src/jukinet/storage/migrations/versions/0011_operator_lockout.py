"""operator lockout: wrong passwords in a row, and when the account was locked

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 15:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("operators") as batch:
        batch.add_column(
            sa.Column("failed_signins", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("locked_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("operators") as batch:
        batch.drop_column("locked_at")
        batch.drop_column("failed_signins")
