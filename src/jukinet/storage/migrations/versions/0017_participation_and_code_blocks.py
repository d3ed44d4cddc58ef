"""participation changes (who connected or disconnected the municipality) and code blocks

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-03 08:00:00

Other branches add 0015 and 0016 from 0014; the merge re-chains this one after them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0015"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "participation_changes",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("previous_state", sa.String(20), nullable=False),
        sa.Column("changed_at", _WHEN, nullable=False),
        sa.Column("operator", sa.String(80), nullable=False),
        sa.Column("terminal", sa.String(40), nullable=True),
        sa.Column("reason", sa.String(400), nullable=False),
        sa.Column("snapshots_queued", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_participation_changes"),
    )
    op.create_table(
        "code_blocks",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("block_id", sa.String(40), nullable=False),
        sa.Column("municipality_code", sa.String(6), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("request_nonce", sa.String(64), nullable=False),
        sa.Column("via", sa.String(40), nullable=False),
        sa.Column("allotted_at", _WHEN, nullable=False),
        sa.Column("received_at", _WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_code_blocks"),
        sa.UniqueConstraint("block_id", name="uq_code_blocks_block_id"),
    )
    op.create_index(
        "ix_code_blocks_municipality", "code_blocks", ["municipality_code", "allotted_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_code_blocks_municipality", table_name="code_blocks")
    op.drop_table("code_blocks")
    op.drop_table("participation_changes")
