"""resident portal: one-time sign-in codes, portal sessions, residents' requests

Revision ID: 0026_portal
Revises: 0018
Create Date: 2026-12-03 12:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026_portal"
down_revision = "0023_emergency"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "portal_codes",
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("resident_id", _BIG_ID, nullable=False),
        sa.Column("card_serial", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["resident_id"], ["residents.id"], name=op.f("fk_portal_codes_resident_id_residents")
        ),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_portal_codes")),
    )
    op.create_index(op.f("ix_portal_codes_resident_id"), "portal_codes", ["resident_id"])
    op.create_table(
        "portal_sessions",
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("resident_id", _BIG_ID, nullable=False),
        sa.Column("card_serial", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_reason", sa.String(40), nullable=True),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_portal_sessions_resident_id_residents"),
        ),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_portal_sessions")),
    )
    op.create_index(op.f("ix_portal_sessions_resident_id"), "portal_sessions", ["resident_id"])
    op.create_index(op.f("ix_portal_sessions_card_serial"), "portal_sessions", ["card_serial"])
    op.create_table(
        "portal_tasks",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("resident_id", _BIG_ID, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.String(400), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(80), nullable=True),
        sa.ForeignKeyConstraint(
            ["resident_id"], ["residents.id"], name=op.f("fk_portal_tasks_resident_id_residents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_tasks")),
    )
    op.create_index(op.f("ix_portal_tasks_resident_id"), "portal_tasks", ["resident_id"])
    op.create_index(op.f("ix_portal_tasks_status"), "portal_tasks", ["status"])


def downgrade() -> None:
    op.drop_table("portal_tasks")
    op.drop_table("portal_sessions")
    op.drop_table("portal_codes")
