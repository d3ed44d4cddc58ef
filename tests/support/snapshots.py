"""Whole-database snapshots, to show that a refused or failed request changed nothing."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from jukinet.services.context import ServiceContext
from jukinet.storage.tables import Base


def table_digests(
    node: ServiceContext, *, exclude: frozenset[str] | set[str] = frozenset()
) -> dict[str, tuple[int, str]]:
    """Each table's row count and a digest of its rows (in key order), but ``exclude``."""
    digests: dict[str, tuple[int, str]] = {}
    with node.session_factory() as session:
        for table in Base.metadata.sorted_tables:
            if table.name in exclude:
                continue
            order = list(table.primary_key.columns) or list(table.columns)
            rows = session.execute(select(table).order_by(*order)).all()
            digest = hashlib.sha256(repr([tuple(row) for row in rows]).encode()).hexdigest()
            digests[table.name] = (len(rows), digest)
    return digests
