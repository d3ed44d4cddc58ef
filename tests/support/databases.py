"""PostgreSQL databases made by multi-node tests (the demo makes one per node)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from jukinet.runtime.cluster import Cluster
from tests.conftest import POSTGRES_ADMIN_URL


def demo_template(database_url: str) -> str | None:
    """A per-node URL template for the demo on the backend of ``database_url`` (SQLite: None)."""
    if database_url.startswith("sqlite"):
        return None
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/demo_{uuid.uuid4().hex[:8]}_{{node}}"


def drop_template_databases(template: str | None) -> None:
    """Drop every database the template's nodes created."""
    if template is None:
        return
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        prefix = template.rsplit("/", 1)[1].replace("{node}", "")
        names = (
            conn.execute(
                text("SELECT datname FROM pg_database WHERE datname LIKE :p"), {"p": prefix + "%"}
            )
            .scalars()
            .all()
        )
        for name in names:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@contextmanager
def running_cluster(
    folder: Path,
    database_url: str,
    names: tuple[str, ...],
    *,
    start: tuple[str, ...] = (),
    settings: dict[str, dict[str, object]] | None = None,
    tree_head_interval_seconds: dict[str, float] | None = None,
) -> Iterator[Cluster]:
    """Node processes for ``names`` on the backend of ``database_url``, stopped and dropped after.

    ``start`` picks the nodes to run (all when empty); the others exist only as credentials.
    ``settings`` and ``tree_head_interval_seconds`` are :class:`Cluster`'s, by node name.
    """
    template = demo_template(database_url)
    built = Cluster(
        folder=folder,
        names=names,
        database_url_template=template,
        max_backoff_seconds=1.0,
        settings=settings or {},
        tree_head_interval_seconds=tree_head_interval_seconds or {},
    )
    built.create(environment="test")
    built.start(list(start) if start else None)
    try:
        yield built
    finally:
        built.stop()
        drop_template_databases(template)
