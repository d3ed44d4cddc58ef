"""Delivery deadlines (issue 12, item 5): a notice unacknowledged past its deadline is overdue
at the sending end (ledger episode, one alert), and shows at the receiving end when it arrives
(ledger episode, alert) — both ends of the link. Real nodes over mutual TLS, both databases.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from jukinet.config import Settings
from jukinet.domain.deadlines import deadlines
from jukinet.domain.errors import ValidationError
from jukinet.domain.messages import MessageKind
from jukinet.domain.operators import Role
from jukinet.services import deadlines as deadline_service
from jukinet.services import ledger
from jukinet.services.context import ServiceContext
from jukinet.storage.delivery_tables import OverdueDeliveryRow
from jukinet.storage.trust_tables import SecurityAlertRow
from tests.support.clock import FixedClock
from tests.support.factories import make_actor, move_in_household, person
from tests.support.network import drain

NISHITOKYO = "municipality:132292"
TOKYO = "prefecture:13"
CENTRE = "national:jlis"
Build = Callable[..., dict[str, ServiceContext]]


def _alerts(node: ServiceContext) -> list[tuple[str, str, str]]:
    with node.session_factory() as session:
        rows = session.scalars(select(SecurityAlertRow).order_by(SecurityAlertRow.id))
        return [(a.kind, a.about, a.reason) for a in rows]


def _episodes(node: ServiceContext) -> list[OverdueDeliveryRow]:
    with node.session_factory() as session:
        return list(session.scalars(select(OverdueDeliveryRow).order_by(OverdueDeliveryRow.id)))


def test_an_overdue_notice_shows_at_both_ends_of_the_link(
    network: Build, clock: FixedClock
) -> None:
    nodes = network(NISHITOKYO, TOKYO, CENTRE)
    town, tokyo, centre = nodes[NISHITOKYO], nodes[TOKYO], nodes[CENTRE]
    move_in_household(town, make_actor(town), person())
    # Within the hour: nothing is overdue.
    clock.advance(minutes=59)
    assert deadline_service.check_deadlines(town) == []
    assert _alerts(town) == []
    # The link has been down for more than the hour of an identity notice (and more than the
    # five minutes two nodes' clocks may differ, which the receiving end allows for).
    clock.advance(minutes=7)
    (overdue,) = deadline_service.check_deadlines(town)
    assert (overdue.peer, overdue.kind, overdue.count) == (TOKYO, "identity_notice", 1)
    assert overdue.deadline_seconds == 3600
    ((kind, about, reason),) = _alerts(town)
    assert (kind, about) == ("delivery_overdue", TOKYO)
    assert reason.startswith(f"1 identity_notice to {TOKYO} not acknowledged within")
    # Checked again: the same episode, no second alert; the ledger counts it.
    deadline_service.check_deadlines(town)
    assert len(_alerts(town)) == 1
    officer = make_actor(town, Role.SECURITY_OFFICER)
    (link,) = ledger.link_statuses(town, actor=officer)
    assert (link.peer, link.overdue) == (TOKYO, 1)
    (listed,) = deadline_service.overdue_deliveries(town, actor=officer)
    assert listed.open

    # The link comes back: Tokyo receives a notice made 66 minutes ago and says so.
    drain(nodes)
    (late,) = _episodes(tokyo)
    assert (late.direction, late.peer, late.kind, late.count) == (
        "inbound",
        NISHITOKYO,
        "identity_notice",
        1,
    )
    ((kind, about, reason),) = _alerts(tokyo)
    assert (kind, about) == ("delivery_overdue", NISHITOKYO)
    assert "arrived past the deadline of 3600 s" in reason
    tokyo_officer = make_actor(tokyo, Role.SECURITY_OFFICER)
    links = {s.peer: s for s in ledger.link_statuses(tokyo, actor=tokyo_officer)}
    assert links[NISHITOKYO].arrived_late == 1
    # The centre sees the same notice late too (sealed by Nishitokyo an hour ago).
    assert [a[:2] for a in _alerts(centre)] == [("delivery_overdue", TOKYO)]
    # Acknowledged now: the sending end's episode closes, no alert is added.
    assert deadline_service.check_deadlines(town) == []
    (closed,) = _episodes(town)
    assert closed.resolved_at is not None
    assert len(_alerts(town)) == 1
    (link,) = ledger.link_statuses(town, actor=officer)
    assert link.overdue == 0


def test_a_node_sets_its_own_deadlines(network: Build, clock: FixedClock) -> None:
    nodes = network(
        NISHITOKYO, TOKYO, **{NISHITOKYO: {"delivery_deadlines": {"identity_notice": 600}}}
    )
    town = nodes[NISHITOKYO]
    move_in_household(town, make_actor(town), person())
    clock.advance(minutes=11)
    (overdue,) = deadline_service.check_deadlines(town)
    assert overdue.deadline_seconds == 600


def test_a_notice_on_time_raises_nothing(network: Build, clock: FixedClock) -> None:
    nodes = network(NISHITOKYO, TOKYO, CENTRE)
    town = nodes[NISHITOKYO]
    move_in_household(town, make_actor(town), person())
    clock.advance(minutes=30)
    drain(nodes)
    assert deadline_service.check_deadlines(town) == []
    for node in nodes.values():
        assert _alerts(node) == []
        assert _episodes(node) == []


def test_every_kind_has_a_deadline_and_bad_settings_are_refused() -> None:
    table = deadlines()
    assert set(table) == set(MessageKind)
    assert table[MessageKind.IDENTITY_NOTICE].total_seconds() == 3600
    assert table[MessageKind.MOVE_IN_NOTICE].total_seconds() == 24 * 3600
    with pytest.raises(ValidationError) as unknown:
        deadlines({"telegram": 60})
    assert unknown.value.code == "JUKI-DLV-001"
    with pytest.raises(ValidationError) as short:
        deadlines({"identity_notice": 1})
    assert short.value.code == "JUKI-DLV-002"
    with pytest.raises(ValueError, match="delivery deadline"):
        Settings(environment="test", delivery_deadlines={"identity_notice": 1})


def test_a_backlog_arriving_late_in_many_requests_is_one_episode(
    network: Build, clock: FixedClock
) -> None:
    """After an outage the queue drains in many requests: one late episode, one alert."""
    nodes = network(NISHITOKYO, TOKYO, **{NISHITOKYO: {"delivery_batch": 1}})
    town, tokyo = nodes[NISHITOKYO], nodes[TOKYO]
    clerk = make_actor(town)
    for _ in range(3):
        move_in_household(town, clerk, person())
    clock.advance(minutes=70)
    drain(nodes)
    (episode,) = _episodes(tokyo)
    assert (episode.direction, episode.count) == ("inbound", 3)
    assert [a[:2] for a in _alerts(tokyo)] == [("delivery_overdue", NISHITOKYO)]
