"""resident record reference: the opaque identifier pages address a record by

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 10:00:00

Pages must not carry resident codes (personal data) or sequential row ids in their addresses,
so every resident row gets a random reference (128 bits, 32 hex digits), unique. Existing rows
are filled here; new rows get one from the table definition's default.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_REF_LENGTH = 32
_FILL_CHUNK = 5_000


def _fill_existing_rows() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # One statement, no round trip per row: a version-4 UUID has 122 random bits from
        # PostgreSQL's strong random source, and without its dashes it is 32 hex digits like
        # the references the application makes.
        op.execute("UPDATE residents SET record_ref = replace(gen_random_uuid()::text, '-', '')")
        return
    residents = sa.table("residents", sa.column("id"), sa.column("record_ref"))
    ids = [row.id for row in bind.execute(sa.select(residents.c.id).order_by(residents.c.id))]
    update = (
        sa.update(residents)
        .where(residents.c.id == sa.bindparam("row_id"))
        .values(record_ref=sa.bindparam("ref"))
    )
    for start in range(0, len(ids), _FILL_CHUNK):
        bind.execute(
            update,
            [
                {"row_id": row_id, "ref": secrets.token_hex(_REF_LENGTH // 2)}
                for row_id in ids[start : start + _FILL_CHUNK]
            ],
        )


def upgrade() -> None:
    with op.batch_alter_table("residents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("record_ref", sa.String(_REF_LENGTH), nullable=True))
    _fill_existing_rows()
    with op.batch_alter_table("residents", schema=None) as batch_op:
        batch_op.alter_column("record_ref", existing_type=sa.String(_REF_LENGTH), nullable=False)
        batch_op.create_unique_constraint(op.f("uq_residents_record_ref"), ["record_ref"])


def downgrade() -> None:
    with op.batch_alter_table("residents", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_residents_record_ref"), type_="unique")
        batch_op.drop_column("record_ref")
