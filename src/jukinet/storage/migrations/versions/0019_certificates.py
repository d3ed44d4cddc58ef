"""certificates: every certificate issued, its signed content and the digest of its PDF

Revision ID: 0019
Revises: 0016
Create Date: 2026-12-03 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0016"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "issued_certificates",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("serial", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("versions", sa.JSON(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("pdf_digest", sa.String(64), nullable=False),
        sa.Column("fee_yen", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("operator_id", _BIG_ID, nullable=True),
        sa.Column("terminal", sa.String(40), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issued_certificates")),
        sa.UniqueConstraint("serial", name=op.f("uq_issued_certificates_serial")),
    )
    op.create_index(
        op.f("ix_issued_certificates_pdf_digest"), "issued_certificates", ["pdf_digest"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_issued_certificates_pdf_digest"), table_name="issued_certificates")
    op.drop_table("issued_certificates")
