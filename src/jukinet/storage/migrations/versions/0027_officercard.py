"""agency console: the officer's own card (a FIDO2 security key) as the second factor

Revision ID: 0027_officercard
Revises: 0026_portal
Create Date: 2026-12-03 13:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027_officercard"
down_revision = "0026_portal"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("agency_sessions") as batch:
        batch.add_column(sa.Column("card_verified_at", _WHEN, nullable=True))
    op.create_table(
        "agency_officer_cards",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("serial", sa.String(32), nullable=False),
        sa.Column("officer_id", _BIG_ID, nullable=False),
        sa.Column("credential_id", sa.String(200), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("lent_at", _WHEN, nullable=False),
        sa.Column("status_changed_at", _WHEN, nullable=False),
        sa.Column("note", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["officer_id"],
            ["agency_officers.id"],
            name="fk_agency_officer_cards_officer_id_agency_officers",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_agency_officer_cards"),
        sa.UniqueConstraint("serial", name="uq_agency_officer_cards_serial"),
        sa.UniqueConstraint("credential_id", name="uq_agency_officer_cards_credential_id"),
    )
    op.create_index(
        "ix_agency_officer_cards_officer_id", "agency_officer_cards", ["officer_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_agency_officer_cards_officer_id", "agency_officer_cards")
    op.drop_table("agency_officer_cards")
    with op.batch_alter_table("agency_sessions") as batch:
        batch.drop_column("card_verified_at")
