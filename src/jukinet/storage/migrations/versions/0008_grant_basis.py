"""affair grants: the recipient's statutory body, the deciding document and the legal basis

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("recipients") as batch:
        batch.add_column(sa.Column("body", sa.String(length=200), nullable=True))
    with op.batch_alter_table("affair_registry") as batch:
        batch.add_column(sa.Column("decision", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("legal_basis", sa.String(length=400), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("affair_registry") as batch:
        batch.drop_column("legal_basis")
        batch.drop_column("decision")
    with op.batch_alter_table("recipients") as batch:
        batch.drop_column("body")
