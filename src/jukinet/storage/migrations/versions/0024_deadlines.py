"""seal receipts (replay detection) and overdue deliveries (issue 12, item 5)

Revision ID: 0024_deadlines
Revises: 0018
Create Date: 2026-12-03 12:30:00

Other branches add migrations on 0018 too; whoever merges them re-chains this one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024_deadlines"
down_revision = "0021_card_move"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "seal_receipts",
        sa.Column("origin", sa.String(40), nullable=False),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("sealed_at", _WHEN, nullable=False),
        sa.Column("received_at", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("origin", "message_id", name="pk_seal_receipts"),
    )
    op.create_index("ix_seal_receipts_received_at", "seal_receipts", ["received_at"])
    op.create_table(
        "overdue_deliveries",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("direction", sa.String(10), nullable=False),
        sa.Column("peer", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("deadline_seconds", sa.Integer(), nullable=False),
        sa.Column("oldest_at", _WHEN, nullable=False),
        sa.Column("detected_at", _WHEN, nullable=False),
        sa.Column("resolved_at", _WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_overdue_deliveries"),
    )
    op.create_index(
        "ix_overdue_deliveries_open",
        "overdue_deliveries",
        ["resolved_at", "direction", "peer"],
    )


def downgrade() -> None:
    op.drop_index("ix_overdue_deliveries_open", "overdue_deliveries")
    op.drop_table("overdue_deliveries")
    op.drop_index("ix_seal_receipts_received_at", "seal_receipts")
    op.drop_table("seal_receipts")
