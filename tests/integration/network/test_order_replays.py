"""A relay that hands over the centre's genuine order, or a town's genuine incident notice, a
second time is refused and named on the security console (issue 12: orders had no replay
memory). Tokyo holds its real keys and posts over real mutual TLS on a fresh sequence number of
its own link: every signature is right, only the seal was seen before. On both databases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from jukinet.domain.emergency import DisconnectProposal
from jukinet.domain.messages import MessageKind
from jukinet.domain.operators import Role
from jukinet.network.origin import MESSAGE_ID
from jukinet.services.context import ServiceContext
from jukinet.services.emergency import disconnects, levels
from jukinet.services.emergency.messages import incident_notices
from jukinet.storage.emergency_tables import EmergencyDisconnectRow
from jukinet.storage.tables import OutboundEnvelopeRow, OutboxRow
from jukinet.storage.trust_tables import SecurityAlertRow
from tests.integration.network.test_emergency_network import _post
from tests.support.emergency import carded, cut_of, decision
from tests.support.factories import with_pool
from tests.support.network import drain

TOWN = "municipality:132292"
TOKYO = "prefecture:13"
CENTRE = "national:jlis"
Build = Callable[..., dict[str, ServiceContext]]


def _relayed(tokyo: ServiceContext, kind: MessageKind, recipient: str) -> list[dict[str, Any]]:
    """The sealed bodies Tokyo passed on to ``recipient``, oldest first."""
    with tokyo.session_factory() as session:
        return list(
            session.scalars(
                select(OutboxRow.body)
                .where(OutboxRow.recipient == recipient, OutboxRow.kind == kind.value)
                .order_by(OutboxRow.id)
            )
        )


def _next_sequence(node: ServiceContext, peer: str) -> int:
    with node.session_factory() as session:
        last = session.scalar(
            select(func.max(OutboundEnvelopeRow.sequence)).where(OutboundEnvelopeRow.peer == peer)
        )
    return (last or 0) + 1


def _alerts(node: ServiceContext) -> list[tuple[str, str]]:
    with node.session_factory() as session:
        return [(a.kind, a.about) for a in session.scalars(select(SecurityAlertRow))]


def _cuts_at(node: ServiceContext) -> int:
    with node.session_factory() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(EmergencyDisconnectRow)
                .where(EmergencyDisconnectRow.ended_at.is_(None))
            )
            or 0
        )


def test_a_replayed_quarantine_does_not_cut_the_town_again(network: Build) -> None:
    nodes = network(TOWN, TOKYO, CENTRE)
    town, tokyo, centre = nodes[TOWN], nodes[TOKYO], nodes[CENTRE]
    with_pool(town)
    officer, delegate = carded(centre, Role.SECURITY_OFFICER), carded(centre, Role.SUPERVISOR)
    cut = disconnects.countersign(
        centre,
        actor=delegate,
        proposal_id=disconnects.propose(
            centre, actor=officer, proposal=cut_of("node", TOWN, minutes=30)
        ).id,
    )
    drain(nodes)
    ending = disconnects.propose(
        centre,
        actor=officer,
        proposal=DisconnectProposal(action="end", reason="解除", disconnect_id=cut.id),
    )
    disconnects.countersign(centre, actor=delegate, proposal_id=ending.id)
    drain(nodes)
    assert _cuts_at(town) == 0
    quarantine, lifting = _relayed(tokyo, MessageKind.EMERGENCY_ORDER, TOWN)
    assert quarantine["order"] == "quarantine"

    # Tokyo hands the centre's genuine quarantine to the town again, in a new envelope.
    response = _post(
        tokyo,
        TOWN,
        MessageKind.EMERGENCY_ORDER,
        quarantine,
        sequence=_next_sequence(tokyo, TOWN),
    )
    (result,) = response.json()["document"]["results"]
    assert result["status"] == "refused"
    assert result["reason"] == (
        f"origin seal replayed: {CENTRE}'s seal {quarantine[MESSAGE_ID]} was received here before"
    )
    assert _cuts_at(town) == 0  # not cut off again
    assert _alerts(town) == [("origin_replay", TOKYO)]
    assert lifting["order"] == "lift_quarantine"


def test_a_replayed_incident_notice_is_refused_and_named(network: Build) -> None:
    nodes = network(TOWN, TOKYO, CENTRE)
    town, tokyo, centre = nodes[TOWN], nodes[TOKYO], nodes[CENTRE]
    levels.change_level(
        town, actor=carded(town, Role.SECURITY_OFFICER), decision=decision(2, town.now())
    )
    drain(nodes)
    (notice,) = _relayed(tokyo, MessageKind.INCIDENT_NOTICE, CENTRE)

    response = _post(
        tokyo,
        CENTRE,
        MessageKind.INCIDENT_NOTICE,
        notice,
        sequence=_next_sequence(tokyo, CENTRE),
    )
    (result,) = response.json()["document"]["results"]
    assert result["status"] == "refused"
    assert result["reason"].startswith(f"origin seal replayed: {TOWN}'s seal")
    with centre.session_factory() as session:
        assert len(incident_notices(session)) == 1
    assert _alerts(centre) == [("origin_replay", TOKYO)]
