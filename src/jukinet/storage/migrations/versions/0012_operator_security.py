"""operator security: cards, terminals, server-side sessions, challenges, permits, hours, calendar

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "operator_cards",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("serial", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("operator_id", _BIG_ID, nullable=True),
        sa.Column("credential_id", sa.String(400), nullable=True),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.BigInteger(), nullable=False),
        sa.Column("registered_at", _WHEN, nullable=False),
        sa.Column("status_changed_at", _WHEN, nullable=False),
        sa.Column("note", sa.String(200), nullable=False),
        sa.Column("demo_enrolled", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name="fk_operator_cards_operator_id_operators"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_operator_cards"),
        sa.UniqueConstraint("serial", name="uq_operator_cards_serial"),
        sa.UniqueConstraint("credential_id", name="uq_operator_cards_credential_id"),
    )
    op.create_table(
        "terminals",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("place", sa.String(80), nullable=False),
        sa.Column("purpose", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("cert_fingerprint", sa.String(64), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("registered_at", _WHEN, nullable=False),
        sa.Column("revoked_at", _WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_terminals"),
        sa.UniqueConstraint("name", name="uq_terminals_name"),
    )
    op.create_table(
        "operator_sessions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("operator_id", _BIG_ID, nullable=False),
        sa.Column("card_id", _BIG_ID, nullable=False),
        sa.Column("terminal", sa.String(40), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("started_at", _WHEN, nullable=False),
        sa.Column("last_seen_at", _WHEN, nullable=False),
        sa.Column("ended_at", _WHEN, nullable=True),
        sa.Column("end_reason", sa.String(80), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name="fk_operator_sessions_operator_id_operators"
        ),
        sa.ForeignKeyConstraint(
            ["card_id"], ["operator_cards.id"], name="fk_operator_sessions_card_id_operator_cards"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_operator_sessions"),
    )
    op.create_index(
        "ix_operator_sessions_operator_id", "operator_sessions", ["operator_id"], unique=False
    )
    op.create_table(
        "signin_challenges",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(20), nullable=False),
        sa.Column("operator_id", _BIG_ID, nullable=True),
        sa.Column("challenge", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("used_at", _WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name="fk_signin_challenges_operator_id_operators"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_signin_challenges"),
    )
    op.create_table(
        "out_of_hours_permits",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("operator_id", _BIG_ID, nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("requested_at", _WHEN, nullable=False),
        sa.Column("approved_by", _BIG_ID, nullable=True),
        sa.Column("approved_at", _WHEN, nullable=True),
        sa.Column("ends_at", _WHEN, nullable=True),
        sa.Column("ended_at", _WHEN, nullable=True),
        sa.Column("ended_by", _BIG_ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name="fk_out_of_hours_permits_operator_id_operators"
        ),
        sa.ForeignKeyConstraint(
            ["approved_by"], ["operators.id"], name="fk_out_of_hours_permits_approved_by_operators"
        ),
        sa.ForeignKeyConstraint(
            ["ended_by"], ["operators.id"], name="fk_out_of_hours_permits_ended_by_operators"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_out_of_hours_permits"),
    )
    op.create_index(
        "ix_out_of_hours_permits_operator_id", "out_of_hours_permits", ["operator_id"], unique=False
    )
    op.create_table(
        "operating_hours",
        sa.Column("weekday", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("opens", sa.String(5), nullable=False),
        sa.Column("closes", sa.String(5), nullable=False),
        sa.PrimaryKeyConstraint("weekday", name="pk_operating_hours"),
    )
    op.create_table(
        "calendar_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(80), nullable=False),
        sa.PrimaryKeyConstraint("day", name="pk_calendar_days"),
    )


def downgrade() -> None:
    op.drop_table("calendar_days")
    op.drop_table("operating_hours")
    op.drop_index("ix_out_of_hours_permits_operator_id", table_name="out_of_hours_permits")
    op.drop_table("out_of_hours_permits")
    op.drop_table("signin_challenges")
    op.drop_index("ix_operator_sessions_operator_id", table_name="operator_sessions")
    op.drop_table("operator_sessions")
    op.drop_table("terminals")
    op.drop_table("operator_cards")
