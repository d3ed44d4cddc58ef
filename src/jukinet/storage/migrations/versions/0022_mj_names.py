"""MJ character identifiers next to the names: on the register and in the upper tiers' store

Revision ID: 0022_mj_names
Revises: 0018
Create Date: 2026-12-03 12:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022_mj_names"
down_revision = "0018"
branch_labels = None
depends_on = None

_TABLES = ("residents", "identity_records")
_COLUMNS = ("family_name_mj", "given_name_mj")


def upgrade() -> None:
    # Plain ALTERs (ADD COLUMN NOT NULL with a default), never a batch table copy: on SQLite a
    # copy drops the old table, which the foreign keys to residents forbid.
    for table in _TABLES:
        for column in _COLUMNS:
            op.add_column(
                table, sa.Column(column, sa.String(400), server_default="", nullable=False)
            )
    _fill_register()


def _fill_register() -> None:
    """Give the register's existing names their identifiers (the upper tiers' copies follow
    with the next notice or reconciliation). A name with a character that has none keeps
    empty identifiers here; its next change at the counter is refused until it is corrected."""
    from jukinet.data.mj_table import name_identifiers
    from jukinet.domain.errors import ValidationError

    residents = sa.table(
        "residents",
        sa.column("id", sa.BigInteger()),
        sa.column("family_name", sa.String()),
        sa.column("given_name", sa.String()),
        sa.column("family_name_mj", sa.String()),
        sa.column("given_name_mj", sa.String()),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(residents.c.id, residents.c.family_name, residents.c.given_name)
    )
    updates: list[dict[str, object]] = []
    for row_id, family, given in rows:
        if family.isascii() and given.isascii():
            continue
        try:
            family_mj = name_identifiers(family, field="family_name")
            given_mj = name_identifiers(given, field="given_name")
        except ValidationError:
            continue
        if family_mj or given_mj:
            updates.append({"row_id": row_id, "family": family_mj, "given": given_mj})
    if updates:
        connection.execute(
            residents.update()
            .where(residents.c.id == sa.bindparam("row_id"))
            .values(family_name_mj=sa.bindparam("family"), given_name_mj=sa.bindparam("given")),
            updates,
        )


def downgrade() -> None:
    for table in _TABLES:
        for column in reversed(_COLUMNS):
            op.drop_column(table, column)  # SQLite ≥ 3.35: a plain ALTER, no copy
