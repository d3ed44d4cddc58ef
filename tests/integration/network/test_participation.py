"""Participation changed by an operator (never connected → connected → disconnected → connected)
and residents' opt-out, on real nodes over mutual TLS, both backends."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import func, select

from jukinet.domain.errors import Conflict, DomainError, PermissionDenied, ValidationError
from jukinet.domain.operator_events import OperatorEvent
from jukinet.domain.operators import Role
from jukinet.domain.participation import OptOutRequest, ParticipationChange
from jukinet.services.context import ServiceContext
from jukinet.services.participation import change_participation, participation_status
from jukinet.services.register.notices import set_upstream_opt_out
from jukinet.storage.participation_tables import ParticipationChangeRow
from jukinet.storage.tables import AccessLogRow, IdentityRecordRow, OutboxRow
from tests.support.factories import make_actor, move_in_household, person
from tests.support.network import drain
from tests.support.snapshots import table_digests

TOWN = "municipality:132292"
TOKYO = "prefecture:13"
CENTRE = "national:jlis"
Build = Callable[..., dict[str, ServiceContext]]
FAMILIES = (("山田", "ヤマダ"), ("佐藤", "サトウ"), ("鈴木", "スズキ"))


def _held(node: ServiceContext, code: str) -> IdentityRecordRow | None:
    with node.session_factory() as session:
        return session.get(IdentityRecordRow, code)


def _pending(node: ServiceContext) -> int:
    with node.session_factory() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(OutboxRow).where(OutboxRow.delivered_at.is_(None))
            )
            or 0
        )


def _residents(town: ServiceContext) -> list[str]:
    clerk = make_actor(town)
    return [
        move_in_household(town, clerk, person(family=f, family_kana=k))
        .records[0]
        .record.resident_code
        for f, k in FAMILIES
    ]


def _change(state: str, reason: str = "市長決裁 第12号") -> ParticipationChange:
    return ParticipationChange(state=state, reason=reason)


def test_a_never_connected_town_joins_with_its_initial_load(network: Build) -> None:
    nodes = network(TOWN, TOKYO, CENTRE, **{TOWN: {"participation": "never_connected"}})
    town = nodes[TOWN]
    codes = _residents(town)
    assert _pending(town) == 0
    admin = make_actor(town, Role.SYSTEM_ADMINISTRATOR)
    view = change_participation(town, actor=admin, change=_change("connected"))
    assert (view.previous_state, view.state, view.snapshots_queued) == (
        "never_connected",
        "connected",
        3,
    )
    drain(nodes)
    for tier in (TOKYO, CENTRE):
        assert all(_held(nodes[tier], code) is not None for code in codes)
    status = participation_status(town, actor=admin)
    assert status.state == "connected"
    assert [c.operator for c in status.changes] == [admin.username]
    with town.session_factory() as session:
        reasons = session.scalars(select(AccessLogRow.reason)).all()
    assert any(r and r.startswith(OperatorEvent.PARTICIPATION_CHANGED.value) for r in reasons)


def test_a_disconnected_town_holds_its_outbox_and_catches_up_on_reconnecting(
    network: Build,
) -> None:
    nodes = network(TOWN, TOKYO, CENTRE, **{TOWN: {"allow_opt_out": True}})
    town = nodes[TOWN]
    admin = make_actor(town, Role.SYSTEM_ADMINISTRATOR)
    clerk = make_actor(town)
    first, second, third = _residents(town)
    drain(nodes)
    held_before = _held(nodes[CENTRE], second)
    assert held_before is not None
    change_participation(town, actor=admin, change=_change("disconnected", "国立市の例に倣う"))
    late = move_in_household(town, clerk, person(family="高橋", family_kana="タカハシ"))
    late_code = late.records[0].record.resident_code
    set_upstream_opt_out(
        town,
        actor=clerk,
        request=OptOutRequest(
            resident_code=second,
            opt_out=True,
            requested_on=date(2026, 11, 25),
            request_number="Y-0001",
        ),
    )
    assert _pending(town) == 0  # nothing is queued while disconnected
    drain(nodes)
    assert _held(nodes[CENTRE], late_code) is None
    assert _held(nodes[CENTRE], second) is not None  # upstream is stale, not corrupted
    view = change_participation(town, actor=admin, change=_change("connected"))
    assert view.snapshots_queued == 3  # four residents, one opted out
    drain(nodes)
    for tier in (TOKYO, CENTRE):
        assert _held(nodes[tier], late_code) is not None
        assert _held(nodes[tier], first) is not None
        assert _held(nodes[tier], second) is None  # withdrawn on reconnecting
        assert _held(nodes[tier], third) is not None


def test_messages_queued_before_a_disconnection_wait_for_the_reconnection(
    network: Build,
) -> None:
    nodes = network(TOWN, TOKYO, CENTRE)
    town = nodes[TOWN]
    admin = make_actor(town, Role.SYSTEM_ADMINISTRATOR)
    code = _residents(town)[0]
    change_participation(town, actor=admin, change=_change("disconnected"))
    assert _pending(town) == 3
    drain(nodes)
    assert _pending(town) == 3
    assert _held(nodes[TOKYO], code) is None
    change_participation(town, actor=admin, change=_change("connected"))
    drain(nodes)
    assert _pending(town) == 0
    assert _held(nodes[CENTRE], code) is not None


@pytest.mark.parametrize(
    ("role", "state", "reason", "error", "code"),
    [
        (Role.CLERK, "disconnected", "理由", PermissionDenied, "JUKI-AUTH-003"),
        (Role.SECURITY_OFFICER, "disconnected", "理由", PermissionDenied, "JUKI-AUTH-003"),
        (Role.SYSTEM_ADMINISTRATOR, "connected", "理由", Conflict, "JUKI-NET-041"),
        (Role.SYSTEM_ADMINISTRATOR, "never_connected", "理由", Conflict, "JUKI-NET-042"),
        (Role.SYSTEM_ADMINISTRATOR, "offline", "理由", ValidationError, "JUKI-NET-040"),
        (Role.SYSTEM_ADMINISTRATOR, "disconnected", "  ", ValidationError, "JUKI-NET-043"),
        (Role.SYSTEM_ADMINISTRATOR, "disconnected", "x" * 401, ValidationError, "JUKI-NET-043"),
    ],
)
def test_refused_changes_leave_storage_unchanged(
    network: Build, role: Role, state: str, reason: str, error: type[DomainError], code: str
) -> None:
    nodes = network(TOWN, TOKYO, CENTRE)
    town = nodes[TOWN]
    actor = make_actor(town, role)
    before = table_digests(town)
    with pytest.raises(error) as raised:
        change_participation(town, actor=actor, change=_change(state, reason))
    assert raised.value.code == code
    assert table_digests(town) == before
    assert town.connected


def test_upper_tiers_have_no_participation_to_change(network: Build) -> None:
    nodes = network(TOWN, TOKYO, CENTRE)
    prefecture = nodes[TOKYO]
    admin = make_actor(prefecture, Role.SYSTEM_ADMINISTRATOR)
    before = table_digests(prefecture)
    with pytest.raises(Conflict) as raised:
        change_participation(prefecture, actor=admin, change=_change("disconnected"))
    assert raised.value.code == "JUKI-NET-046"
    assert table_digests(prefecture) == before


def test_a_change_made_elsewhere_is_seen_after_a_refresh(network: Build) -> None:
    """The command line is another process: the running node reads the state again."""
    nodes = network(TOWN, TOKYO, CENTRE)
    town = nodes[TOWN]
    admin = make_actor(town, Role.SYSTEM_ADMINISTRATOR)
    with town.session_factory() as session, session.begin():
        assert session.scalar(select(func.count()).select_from(ParticipationChangeRow)) == 0
    other = ServiceContext(
        settings=town.settings,
        engine=town.engine,
        session_factory=town.session_factory,
        clock=town.clock,
        network=town.network,
    )
    change_participation(other, actor=admin, change=_change("disconnected"))
    assert town.connected  # not yet re-read
    assert town.refresh_participation() == "disconnected"
    assert not town.connected
