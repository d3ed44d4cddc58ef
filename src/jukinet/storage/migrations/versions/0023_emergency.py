"""threat levels, two-card emergency disconnects, incident notices, urgent affairs (issue 12)

Revision ID: 0023_emergency
Revises: 0018
Create Date: 2026-12-03 12:30:00

Other branches add migrations on 0018 too; whoever merges them re-chains this one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023_emergency"
down_revision = "0024_deadlines"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "threat_levels",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("scope", sa.String(10), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("previous_level", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(400), nullable=False),
        sa.Column("decided_by", sa.String(400), nullable=False),
        sa.Column("decided_at", _WHEN, nullable=False),
        sa.Column("minutes_ref", sa.String(400), nullable=False),
        sa.Column("recorded_by", sa.String(80), nullable=False),
        sa.Column("recorded_at", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_threat_levels"),
    )
    op.create_table(
        "emergency_disconnects",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("scope", sa.String(10), nullable=False),
        sa.Column("target", sa.String(80), nullable=False),
        sa.Column("reason", sa.String(400), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("activated_at", _WHEN, nullable=False),
        sa.Column("expires_at", _WHEN, nullable=False),
        sa.Column("ended_at", _WHEN, nullable=True),
        sa.Column("end_reason", sa.String(400), nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_emergency_disconnects"),
    )
    op.create_table(
        "emergency_proposals",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("action", sa.String(10), nullable=False),
        sa.Column("disconnect_id", _BIG_ID, nullable=True),
        sa.Column("scope", sa.String(10), nullable=False),
        sa.Column("target", sa.String(80), nullable=False),
        sa.Column("reason", sa.String(400), nullable=False),
        sa.Column("duration_seconds", sa.Integer(), nullable=False),
        sa.Column("proposed_by", sa.String(80), nullable=False),
        sa.Column("proposed_role", sa.String(30), nullable=False),
        sa.Column("proposed_card", sa.String(32), nullable=False),
        sa.Column("proposed_at", _WHEN, nullable=False),
        sa.Column("status", sa.String(15), nullable=False),
        sa.Column("countersigned_by", sa.String(80), nullable=True),
        sa.Column("countersigned_card", sa.String(32), nullable=True),
        sa.Column("countersigned_at", _WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["disconnect_id"],
            ["emergency_disconnects.id"],
            name="fk_emergency_proposals_disconnect_id_emergency_disconnects",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_emergency_proposals"),
    )
    op.create_table(
        "emergency_events",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("disconnect_id", _BIG_ID, nullable=False),
        sa.Column("action", sa.String(15), nullable=False),
        sa.Column("at", _WHEN, nullable=False),
        sa.Column("scope", sa.String(10), nullable=False),
        sa.Column("target", sa.String(80), nullable=False),
        sa.Column("expires_at", _WHEN, nullable=True),
        sa.Column("decided_by", sa.String(200), nullable=False),
        sa.Column("reason", sa.String(400), nullable=False),
        sa.ForeignKeyConstraint(
            ["disconnect_id"],
            ["emergency_disconnects.id"],
            name="fk_emergency_events_disconnect_id_emergency_disconnects",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_emergency_events"),
    )
    op.create_index("ix_emergency_events_disconnect_id", "emergency_events", ["disconnect_id"])
    op.create_table(
        "incident_notices",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("origin", sa.String(40), nullable=False),
        sa.Column("sender", sa.String(40), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("previous_level", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(400), nullable=False),
        sa.Column("decided_by", sa.String(400), nullable=False),
        sa.Column("decided_at", _WHEN, nullable=False),
        sa.Column("minutes_ref", sa.String(400), nullable=False),
        sa.Column("sealed_at", _WHEN, nullable=False),
        sa.Column("received_at", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_incident_notices"),
        sa.UniqueConstraint("message_id", name="uq_incident_notices_message_id"),
    )
    op.create_index("ix_incident_notices_origin", "incident_notices", ["origin"])
    op.create_table(
        "urgent_affairs",
        sa.Column("affair_code", sa.String(20), nullable=False),
        sa.Column("marked_by", sa.String(80), nullable=False),
        sa.Column("marked_at", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("affair_code", name="pk_urgent_affairs"),
    )


def downgrade() -> None:
    op.drop_table("urgent_affairs")
    op.drop_index("ix_incident_notices_origin", "incident_notices")
    op.drop_table("incident_notices")
    op.drop_index("ix_emergency_events_disconnect_id", "emergency_events")
    op.drop_table("emergency_events")
    op.drop_table("emergency_proposals")
    op.drop_table("emergency_disconnects")
    op.drop_table("threat_levels")
