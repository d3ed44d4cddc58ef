"""resident cards: the municipality's card register, its event trail, card statuses upstream

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 22:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_WHEN = sa.DateTime(timezone=True)
_LIVE_STATES = "state IN ('applied', 'valid', 'suspended')"


def upgrade() -> None:
    op.create_table(
        "resident_cards",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("serial", sa.String(15), nullable=False),
        sa.Column("resident_id", _BIG_ID, nullable=False),
        sa.Column("resident_code", sa.String(11), nullable=False),
        sa.Column("form", sa.String(10), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("invalid_reason", sa.String(30), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("pin_failures", sa.SmallInteger(), nullable=False),
        sa.Column("auth_public_key", sa.LargeBinary(), nullable=True),
        sa.Column("sign_public_key", sa.LargeBinary(), nullable=True),
        sa.Column("face", sa.JSON(), nullable=True),
        sa.Column("photo_ref", sa.String(200), nullable=True),
        sa.Column("applied_at", _WHEN, nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
        sa.Column("updated_by", _BIG_ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resident_id"], ["residents.id"], name="fk_resident_cards_resident_id_residents"
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["operators.id"], name="fk_resident_cards_updated_by_operators"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_resident_cards"),
        sa.UniqueConstraint("serial", name="uq_resident_cards_serial"),
    )
    op.create_index("ix_resident_cards_resident_id", "resident_cards", ["resident_id"])
    op.create_index(
        "ix_resident_cards_one_live_card",
        "resident_cards",
        ["resident_id"],
        unique=True,
        sqlite_where=sa.text(_LIVE_STATES),
        postgresql_where=sa.text(_LIVE_STATES),
    )
    op.create_table(
        "resident_card_events",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("card_id", _BIG_ID, nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("at", _WHEN, nullable=False),
        sa.Column("operator_id", _BIG_ID, nullable=True),
        sa.Column("place", sa.String(80), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["card_id"],
            ["resident_cards.id"],
            name="fk_resident_card_events_card_id_resident_cards",
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name="fk_resident_card_events_operator_id_operators"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_resident_card_events"),
    )
    op.create_index("ix_resident_card_events_card_id", "resident_card_events", ["card_id", "id"])
    op.create_table(
        "card_statuses",
        sa.Column("serial", sa.String(15), nullable=False),
        sa.Column("municipality_code", sa.String(6), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("reason", sa.String(30), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("auth_public_key", sa.LargeBinary(), nullable=True),
        sa.Column("changed_at", _WHEN, nullable=False),
        sa.Column("received_at", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("serial", name="pk_card_statuses"),
    )
    op.create_table(
        "card_status_checks",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("serial", sa.String(15), nullable=False),
        sa.Column("asked_by", sa.String(80), nullable=False),
        sa.Column("at", _WHEN, nullable=False),
        sa.Column("answer", sa.String(80), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_card_status_checks"),
    )
    op.create_index("ix_card_status_checks_serial", "card_status_checks", ["serial", "at"])


def downgrade() -> None:
    op.drop_index("ix_card_status_checks_serial", "card_status_checks")
    op.drop_table("card_status_checks")
    op.drop_table("card_statuses")
    op.drop_index("ix_resident_card_events_card_id", "resident_card_events")
    op.drop_table("resident_card_events")
    op.drop_index("ix_resident_cards_one_live_card", "resident_cards")
    op.drop_index("ix_resident_cards_resident_id", "resident_cards")
    op.drop_table("resident_cards")
