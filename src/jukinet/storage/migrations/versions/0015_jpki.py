"""jpki: the prefectural CA's register of signature certificates (公的個人認証)

Revision ID: 0015
Revises: 0019
Create Date: 2026-12-03 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0019"
branch_labels = None
depends_on = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "jpki_certificates",
        sa.Column("serial", sa.String(40), nullable=False),
        sa.Column("card_serial", sa.String(15), nullable=False),
        sa.Column("municipality_code", sa.String(6), nullable=False),
        sa.Column("resident_code", sa.String(11), nullable=False),
        sa.Column("subject_hash", sa.String(64), nullable=False),
        sa.Column("not_before", _WHEN, nullable=False),
        sa.Column("not_after", _WHEN, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("revoked_at", _WHEN, nullable=True),
        sa.Column("reason", sa.String(30), nullable=True),
        sa.Column("issued_at", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("serial", name="pk_jpki_certificates"),
    )
    op.create_index(
        "ix_jpki_certificates_resident", "jpki_certificates", ["resident_code", "status"]
    )
    op.create_index("ix_jpki_certificates_status", "jpki_certificates", ["status", "revoked_at"])


def downgrade() -> None:
    op.drop_index("ix_jpki_certificates_status", "jpki_certificates")
    op.drop_index("ix_jpki_certificates_resident", "jpki_certificates")
    op.drop_table("jpki_certificates")
