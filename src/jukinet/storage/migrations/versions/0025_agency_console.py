"""agency console: officers of the recipients and their sessions (issue 15, item 2)

Revision ID: 0025_agency_console
Revises: 0018
Create Date: 2026-12-03 12:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025_agency_console"
down_revision = "0022_mj_names"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "agency_officers",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("recipient_id", sa.String(80), nullable=False),
        sa.Column("login", sa.String(40), nullable=False),
        sa.Column("display_name", sa.String(60), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("failed_signins", sa.Integer(), nullable=False),
        sa.Column("locked_at", _WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_agency_officers"),
    )
    op.create_index(
        "ix_agency_officers_recipient",
        "agency_officers",
        ["recipient_id", "login"],
        unique=True,
    )
    op.create_table(
        "agency_sessions",
        sa.Column("secret_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("officer_id", _BIG_ID, nullable=False),
        sa.Column("recipient_id", sa.String(80), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("last_seen_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["officer_id"],
            ["agency_officers.id"],
            name="fk_agency_sessions_officer_id_agency_officers",
        ),
        sa.PrimaryKeyConstraint("secret_hash", name="pk_agency_sessions"),
    )


def downgrade() -> None:
    op.drop_table("agency_sessions")
    op.drop_index("ix_agency_officers_recipient", "agency_officers")
    op.drop_table("agency_officers")
