"""the card move (転入転出の特例): planned card moves and arriving cards (issue 14 item 4)

Revision ID: 0021_card_move
Revises: 0018
Create Date: 2026-12-03 12:30:00

Other branches add migrations on 0018; whoever merges them re-chains this one after the last.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021_card_move"
down_revision = "0025_agency_console"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "planned_card_moves",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("serial", sa.String(15), nullable=False),
        sa.Column("holder_id", _BIG_ID, nullable=False),
        sa.Column("resident_codes", sa.JSON(), nullable=False),
        sa.Column("destination", sa.String(200), nullable=False),
        sa.Column("destination_municipality_code", sa.String(6), nullable=False),
        sa.Column("planned_on", sa.Date(), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("insurance_note", sa.String(200), nullable=True),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("filed_at", _WHEN, nullable=False),
        sa.Column("completed_at", _WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["holder_id"], ["residents.id"], name="fk_planned_card_moves_holder_id_residents"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_planned_card_moves"),
    )
    op.create_index("ix_planned_card_moves_serial", "planned_card_moves", ["serial", "state"])
    op.create_table(
        "arriving_cards",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("serial", sa.String(15), nullable=False),
        sa.Column("resident_id", _BIG_ID, nullable=False),
        sa.Column("old_municipality_code", sa.String(6), nullable=False),
        sa.Column("moved_in_on", sa.Date(), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("card", sa.JSON(), nullable=False),
        sa.Column("auth_public_key", sa.LargeBinary(), nullable=True),
        sa.Column("sign_public_key", sa.LargeBinary(), nullable=True),
        sa.Column("arrived_at", _WHEN, nullable=False),
        sa.Column("continued_at", _WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["resident_id"], ["residents.id"], name="fk_arriving_cards_resident_id_residents"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_arriving_cards"),
        sa.UniqueConstraint("serial", name="uq_arriving_cards_serial"),
    )


def downgrade() -> None:
    op.drop_table("arriving_cards")
    op.drop_index("ix_planned_card_moves_serial", "planned_card_moves")
    op.drop_table("planned_card_moves")
