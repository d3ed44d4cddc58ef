"""Report sessions read a snapshot without holding up the counter (SQLite's write lock)."""

from __future__ import annotations

from sqlalchemy import func, select

from jukinet.services.context import ServiceContext
from jukinet.services.transparency import cached_transparency_stats
from jukinet.storage.tables import OperatorRow
from tests.support.factories import make_actor


def test_a_long_report_does_not_block_a_write(node: ServiceContext) -> None:
    make_actor(node, username="before")
    with node.read_session() as report:
        counted = report.scalar(select(func.count()).select_from(OperatorRow))
        # While the report's transaction is open, a clerk's write goes through at once
        # (on SQLite an IMMEDIATE transaction here would wait for busy_timeout and fail).
        make_actor(node, username="during")
        again = report.scalar(select(func.count()).select_from(OperatorRow))
    assert counted == 1
    # PostgreSQL's READ COMMITTED sees the new row; SQLite's WAL snapshot does not.
    assert again in (1, 2)
    with node.read_session() as later:
        assert later.scalar(select(func.count()).select_from(OperatorRow)) == 2


def test_published_statistics_are_reused_briefly(node: ServiceContext) -> None:
    first = cached_transparency_stats(node, months=3)
    assert cached_transparency_stats(node, months=3) is first
    assert cached_transparency_stats(node, months=3, max_age=0) is not first
