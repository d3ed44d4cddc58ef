"""agency officer cards: who lent each card (the card administrator's page shows it)

Revision ID: 0030_officer_lend
Revises: 0027_officercard
Create Date: 2026-12-03 16:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030_officer_lend"
down_revision = "0027_officercard"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agency_officer_cards") as batch:
        batch.add_column(sa.Column("lent_by", sa.String(80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agency_officer_cards") as batch:
        batch.drop_column("lent_by")
