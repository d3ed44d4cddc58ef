"""Clock skew between neighbours: what a wrong clock does to delivery.

There is no freshness window on envelopes: ``created_at`` is signed but not compared with the
receiver's clock, because replays and reordering are caught by the per-link sequence numbers and
a retried envelope keeps its first timestamp (it may legitimately arrive days later, after a
partition). A node's clock matters where certificates are checked: the receiver checks the
sender's certificate and the CRL at *its* time, and the sender checks the signed acknowledgement
at *its* time. Certificates are issued valid from five minutes before their issue, which is the
whole tolerance for a clock running behind the CA.

Measured here, municipality → prefecture over mutual TLS, certificates issued at TEST_NOW:

* the sender's clock off by −4 min, +2 min, +1 day or +6 days: delivered, applied once;
* the sender's clock an hour behind: the prefecture applies the notices, but the municipality
  refuses the acknowledgement (the prefecture's certificate is "not yet valid" at its time); it
  retries, each retry is recognised as a duplicate, and once its clock is right the link
  settles: nothing lost, nothing applied twice;
* the receiver's clock an hour behind: every envelope is refused (the sender's certificate is
  not yet valid at its time) and each refusal is recorded; once corrected, the queued notices
  are applied once, in order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from jukinet.network.context import Rejected
from jukinet.services import register
from jukinet.services.context import ServiceContext
from jukinet.storage.tables import (
    IdentityHistoryRow,
    InboxRow,
    NetworkRejectionRow,
    OutboxRow,
)
from tests.conftest import TEST_NOW
from tests.support.clock import FixedClock
from tests.support.factories import make_actor, move_in_household, person
from tests.support.network import free_port, make_node, make_pki, sender, serving

TOWN = "municipality:132292"
TOKYO = "prefecture:13"
ADDRESSES = ("東京都西東京市田無町一丁目1番1号", "東京都西東京市向台町二丁目2番2号")


@dataclass
class Link:
    """A municipality and its prefecture, each with its own clock."""

    town: ServiceContext
    tokyo: ServiceContext
    town_clock: FixedClock
    tokyo_clock: FixedClock


@pytest.fixture
def link(tmp_path: Path, new_database: Callable[[str], str]) -> Iterator[Link]:
    """Nishitokyo sending to Tokyo, the prefecture serving on loopback; both clocks at
    TEST_NOW, the certificates issued then."""
    pki, _signer = make_pki(tmp_path / "pki", [TOWN, TOKYO, "national:jlis"], TEST_NOW)
    town_clock, tokyo_clock = FixedClock(TEST_NOW), FixedClock(TEST_NOW)
    port = free_port()
    town = make_node(
        TOWN,
        database_url=new_database("town"),
        pki=pki,
        peers={TOKYO: f"https://127.0.0.1:{port}"},
        clock=town_clock,
    )
    tokyo = make_node(
        TOKYO, database_url=new_database("tokyo"), pki=pki, peers={}, clock=tokyo_clock
    )
    with serving(tokyo, port):
        yield Link(town, tokyo, town_clock, tokyo_clock)
    town.engine.dispose()
    tokyo.engine.dispose()


def _count(node: ServiceContext, table: type, *where: object) -> int:
    with node.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(table).where(*where)) or 0)


def _file_changes(town: ServiceContext) -> str:
    """A move-in and two moves within the town: three notices for one resident."""
    clerk = make_actor(town)
    record = move_in_household(town, clerk, person()).records[0].record
    for address in ADDRESSES:
        register.file_move_within(
            town,
            actor=clerk,
            household_number=record.household_number,
            address=address,
            moved_on=date(2026, 11, 26),
            filed_on=date(2026, 11, 26),
        )
    return record.resident_code


def _deliver(town: ServiceContext) -> str | None:
    """One delivery round; the refusal's reason if it failed."""
    link = sender(town, TOKYO)
    try:
        link.deliver_once()
    except Rejected as rejection:
        return rejection.reason
    finally:
        link.close()
    return None


def _applied_in_order(link: Link, code: str) -> None:
    """Each of the three notices applied exactly once, in filing order, nothing pending."""
    with link.tokyo.session_factory() as session:
        history = list(
            session.scalars(
                select(IdentityHistoryRow)
                .where(IdentityHistoryRow.resident_code == code)
                .order_by(IdentityHistoryRow.version)
            )
        )
    assert [h.reason for h in history] == ["A02", "B01", "B01"]
    assert [h.identity["address"] for h in history[1:]] == list(ADDRESSES)
    assert _count(link.tokyo, InboxRow) == 3
    assert _count(link.town, OutboxRow, OutboxRow.delivered_at.is_(None)) == 0


@pytest.mark.parametrize(
    "skew",
    [timedelta(minutes=-4), timedelta(minutes=2), timedelta(days=1), timedelta(days=6)],
    ids=["sender-4min", "sender+2min", "sender+1day", "sender+6days"],
)
def test_a_sender_clock_within_certificate_validity_delivers(link: Link, skew: timedelta) -> None:
    link.town_clock.advance(seconds=skew.total_seconds())
    code = _file_changes(link.town)
    assert _deliver(link.town) is None
    _applied_in_order(link, code)
    assert _count(link.tokyo, NetworkRejectionRow) == 0


def test_a_sender_clock_behind_its_peers_certificate_stalls_but_loses_nothing(link: Link) -> None:
    link.town_clock.advance(hours=-1)
    code = _file_changes(link.town)
    for _attempt in range(3):
        reason = _deliver(link.town)
        assert reason is not None
        assert "not yet valid" in reason
    # The prefecture applied the notices on the first attempt and recognised the retries.
    assert _count(link.tokyo, IdentityHistoryRow) == 3
    assert _count(link.town, OutboxRow, OutboxRow.delivered_at.is_(None)) == 3
    link.town_clock.advance(hours=1)  # the clock is put right
    assert _deliver(link.town) is None
    _applied_in_order(link, code)


def test_a_receiver_clock_behind_refuses_and_records_then_applies_once(link: Link) -> None:
    link.tokyo_clock.advance(hours=-1)
    code = _file_changes(link.town)
    for _attempt in range(3):
        reason = _deliver(link.town)
        assert reason is not None
    refusals = _refused_reasons(link.tokyo)
    assert len(refusals) == 3
    assert all("not yet valid" in r for r in refusals)
    assert _count(link.tokyo, IdentityHistoryRow) == 0
    assert _count(link.tokyo, InboxRow) == 0
    link.tokyo_clock.advance(hours=1)
    assert _deliver(link.town) is None
    _applied_in_order(link, code)


def _refused_reasons(node: ServiceContext) -> list[str]:
    with node.session_factory() as session:
        return list(session.scalars(select(NetworkRejectionRow.reason)))
