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
    # Uniqueness is a unique index on both backends (SQLite would need a table copy for a
    # constraint; see below).
    if op.get_bind().dialect.name != "sqlite":
        op.add_column("residents", sa.Column("record_ref", sa.String(_REF_LENGTH), nullable=True))
        _fill_existing_rows()
        op.alter_column("residents", "record_ref", nullable=False)
    else:
        # SQLite would make a column NOT NULL by copying the table and dropping the old one,
        # which the foreign keys from resident_versions forbid inside a transaction (and the
        # pragma that turns them off cannot change in one). So: ADD COLUMN NOT NULL with an
        # empty default (a plain ALTER, no copy), then fill every row. The leftover default
        # is never used: the application always sets the column, and a second empty value
        # would break the unique index.
        op.add_column(
            "residents",
            sa.Column("record_ref", sa.String(_REF_LENGTH), nullable=False, server_default=""),
        )
        _fill_existing_rows()
    op.create_index(op.f("ix_residents_record_ref"), "residents", ["record_ref"], unique=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_residents_record_ref"), "residents")
    op.drop_column("residents", "record_ref")  # SQLite ≥ 3.35: a plain ALTER, no copy
