"""card services by ordinance: the registry, enrolments with service identifiers, use counts

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-03 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "card_services",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name_ja", sa.String(60), nullable=False),
        sa.Column("name_en", sa.String(60), nullable=False),
        sa.Column("ordinance_name", sa.String(120), nullable=False),
        sa.Column("enacted_on", sa.Date(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("created_by", _BIG_ID, nullable=False),
        sa.Column("deactivated_at", _WHEN, nullable=True),
        sa.Column("deactivated_by", _BIG_ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"], ["operators.id"], name="fk_card_services_created_by_operators"
        ),
        sa.ForeignKeyConstraint(
            ["deactivated_by"], ["operators.id"], name="fk_card_services_deactivated_by_operators"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_card_services"),
        sa.UniqueConstraint("code", name="uq_card_services_code"),
    )
    op.create_table(
        "card_service_enrolments",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("service_id", _BIG_ID, nullable=False),
        sa.Column("resident_id", _BIG_ID, nullable=False),
        sa.Column("service_identifier", sa.String(32), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("enrolled_at", _WHEN, nullable=False),
        sa.Column("enrolled_by", _BIG_ID, nullable=False),
        sa.Column("withdrawn_at", _WHEN, nullable=True),
        sa.Column("withdrawn_by", _BIG_ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["card_services.id"],
            name="fk_card_service_enrolments_service_id_card_services",
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name="fk_card_service_enrolments_resident_id_residents",
        ),
        sa.ForeignKeyConstraint(
            ["enrolled_by"],
            ["operators.id"],
            name="fk_card_service_enrolments_enrolled_by_operators",
        ),
        sa.ForeignKeyConstraint(
            ["withdrawn_by"],
            ["operators.id"],
            name="fk_card_service_enrolments_withdrawn_by_operators",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_card_service_enrolments"),
        sa.UniqueConstraint(
            "service_id", "resident_id", name="uq_card_service_enrolments_service_id"
        ),
        sa.UniqueConstraint(
            "service_identifier", name="uq_card_service_enrolments_service_identifier"
        ),
    )
    op.create_table(
        "card_service_uses",
        sa.Column("service_id", _BIG_ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["card_services.id"],
            name="fk_card_service_uses_service_id_card_services",
        ),
        sa.PrimaryKeyConstraint("service_id", "day", name="pk_card_service_uses"),
    )


def downgrade() -> None:
    op.drop_table("card_service_uses")
    op.drop_table("card_service_enrolments")
    op.drop_table("card_services")
