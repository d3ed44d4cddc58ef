"""security alerts, witnessed tree heads and their countersignatures (issue 12, items 6 and 7)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 10:00:00

Other branches add 0015–0017 on 0014; whoever merges them re-chains this one after the last.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "security_alerts",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("about", sa.String(60), nullable=False),
        sa.Column("reason", sa.String(400), nullable=False),
        sa.Column("raised_at", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_security_alerts"),
    )
    op.create_index("ix_security_alerts_raised_at", "security_alerts", ["raised_at"])
    op.create_table(
        "witnessed_heads",
        sa.Column("node", sa.String(60), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("head", sa.JSON(), nullable=False),
        sa.Column("countersignature", sa.JSON(), nullable=False),
        sa.Column("witnessed_at", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("node", "tree_size", name="pk_witnessed_heads"),
    )
    op.create_table(
        "head_countersignatures",
        sa.Column("witness", sa.String(60), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("countersignature", sa.JSON(), nullable=False),
        sa.Column("witnessed_at", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("witness", "tree_size", name="pk_head_countersignatures"),
    )


def downgrade() -> None:
    op.drop_table("head_countersignatures")
    op.drop_table("witnessed_heads")
    op.drop_index("ix_security_alerts_raised_at", "security_alerts")
    op.drop_table("security_alerts")
