"""auditlog head chain: each signed tree head carries its sequence number and its predecessor

Heads signed before this revision keep both columns empty (format v1); every head signed after
it is chained (format v2), so deleting published heads shows in ``jukinet audit verify``.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tree_heads") as batch:
        batch.add_column(sa.Column("sequence", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("previous_hash", sa.LargeBinary(length=32), nullable=True))
        batch.create_unique_constraint(batch.f("uq_tree_heads_sequence"), ["sequence"])


def downgrade() -> None:
    with op.batch_alter_table("tree_heads") as batch:
        batch.drop_constraint(batch.f("uq_tree_heads_sequence"), type_="unique")
        batch.drop_column("previous_hash")
        batch.drop_column("sequence")
