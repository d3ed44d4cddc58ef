"""Origin signatures end to end (issue 12, item 6): the municipality's own signature over each
identity message travels with it, and the centre checks it, not only the last hop's.

The hostile prefecture here holds its genuine keys and serves over real mutual TLS; it alters
(or re-signs, or strips) a notice it relays, and the centre catches it. On both databases.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from jukinet.domain.identity import IdentityInfo
from jukinet.domain.messages import MessageKind
from jukinet.network.origin import ORIGIN, ORIGIN_SIGNATURE, SEALED_KIND, seal_identity
from jukinet.services.context import ServiceContext
from jukinet.storage.tables import (
    IdentityRecordRow,
    InboxRow,
    OutboundEnvelopeRow,
    OutboxRow,
)
from jukinet.storage.trust_tables import SecurityAlertRow
from tests.integration.network.test_hostile_municipality import _post_raw
from tests.support.factories import make_actor, move_in_household, person
from tests.support.network import drain, sender

NISHITOKYO = "municipality:132292"
HACHIOJI = "municipality:132012"
TOKYO = "prefecture:13"
CENTRE = "national:jlis"
Build = Callable[..., dict[str, ServiceContext]]


def _register(nodes: dict[str, ServiceContext]) -> IdentityInfo:
    """A new Nishitokyo resident whose notice has reached Tokyo (and not yet the centre)."""
    town = nodes[NISHITOKYO]
    record = move_in_household(town, make_actor(town), person()).records[0].record
    link = sender(town, TOKYO)
    try:
        assert link.deliver_once().sent == 1
    finally:
        link.close()
    return record.identity()


def _relayed(tokyo: ServiceContext) -> OutboxRow:
    """The notice Tokyo is about to relay to the centre."""
    with tokyo.session_factory() as session:
        return session.scalars(select(OutboxRow).where(OutboxRow.recipient == CENTRE)).one()


def _rewrite_relayed(tokyo: ServiceContext, body: dict[str, Any]) -> None:
    """The hostile prefecture changes what it relays, behind its own delivery's back."""
    with tokyo.session_factory() as session, session.begin():
        row = session.scalars(select(OutboxRow).where(OutboxRow.recipient == CENTRE)).one()
        row.body = body


def _unsealed(body: dict[str, Any]) -> dict[str, Any]:
    """A sealed notice body without its seal."""
    return {k: v for k, v in body.items() if k in ("municipality_code", "identity", "change")}


def _relay_and_refuse(
    nodes: dict[str, ServiceContext], body: dict[str, Any], resident: IdentityInfo
) -> InboxRow:
    """Tokyo relays ``body`` instead of the genuine notice; the centre's one refusal."""
    _rewrite_relayed(nodes[TOKYO], body)
    drain(nodes)
    assert _held_at_centre(nodes[CENTRE], resident.resident_code) is None
    (refused,) = _refused_at_centre(nodes[CENTRE])
    return refused


def _held_at_centre(centre: ServiceContext, code: str) -> IdentityRecordRow | None:
    with centre.session_factory() as session:
        return session.get(IdentityRecordRow, code)


def _alerts(node: ServiceContext) -> list[tuple[str, str, str]]:
    with node.session_factory() as session:
        return [
            (a.kind, a.about, a.reason) for a in session.scalars(select(SecurityAlertRow)).all()
        ]


def _refused_at_centre(centre: ServiceContext) -> list[InboxRow]:
    with centre.session_factory() as session:
        return list(session.scalars(select(InboxRow).where(InboxRow.status == "refused")))


def test_the_municipality_seal_travels_to_the_centre(network: Build) -> None:
    nodes = network(NISHITOKYO, TOKYO, CENTRE)
    resident = _register(nodes)
    relayed = _relayed(nodes[TOKYO]).body
    # Tokyo relays the body exactly as Nishitokyo sealed it.
    assert relayed[ORIGIN] == NISHITOKYO
    assert relayed[SEALED_KIND] == MessageKind.IDENTITY_NOTICE.value
    assert relayed[ORIGIN_SIGNATURE]
    drain(nodes)
    held = _held_at_centre(nodes[CENTRE], resident.resident_code)
    assert held is not None
    assert (held.municipality_code, held.address) == ("132292", resident.address)
    assert _alerts(nodes[CENTRE]) == []
    assert _refused_at_centre(nodes[CENTRE]) == []


def test_a_prefecture_that_alters_a_relayed_notice_is_caught_at_the_centre(
    network: Build,
) -> None:
    nodes = network(NISHITOKYO, TOKYO, CENTRE)
    resident = _register(nodes)
    tokyo = nodes[TOKYO]
    genuine = _relayed(tokyo).body
    altered = genuine | {
        "identity": genuine["identity"] | {"address": "東京都千代田区千代田1番1号"}
    }
    # Refused, kept as evidence, nothing stored, and the security console has the alert.
    refused = _relay_and_refuse(nodes, altered, resident)
    centre = nodes[CENTRE]
    assert refused.reason == (
        f"origin signature refused: the origin signature is not {NISHITOKYO}'s"
    )
    assert refused.sender == TOKYO
    assert refused.body == altered
    ((kind, about, reason),) = _alerts(centre)
    assert (kind, about) == ("origin_signature", TOKYO)
    assert f"handed over by {TOKYO}" in reason
    assert "千代田" not in reason  # no personal data in the alert
    # Tokyo's delivery ledger shows the centre refused it.
    with tokyo.session_factory() as session:
        statuses = list(session.scalars(select(OutboundEnvelopeRow.status)))
    assert statuses == ["refused"]


def test_a_prefecture_that_re_signs_or_strips_the_seal_is_caught(network: Build) -> None:
    nodes = network(NISHITOKYO, TOKYO, CENTRE)
    resident = _register(nodes)
    tokyo = nodes[TOKYO]
    assert tokyo.network is not None
    genuine = _relayed(tokyo).body
    bare = _unsealed(genuine)
    altered = bare | {"identity": bare["identity"] | {"address": "東京都千代田区千代田1番1号"}}
    # Sealed again with the prefecture's own genuine key: not a municipality's seal.
    resealed = seal_identity(
        MessageKind.IDENTITY_NOTICE.value, altered, net=tokyo.network, now=tokyo.now()
    )
    first = _post_raw(tokyo, CENTRE, MessageKind.IDENTITY_NOTICE, resealed)
    assert (first["status"], first["reason"]) == (
        "refused",
        f"origin signature refused: {TOKYO} is not a municipality; "
        "only a municipality originates one",
    )
    assert _held_at_centre(nodes[CENTRE], resident.resident_code) is None
    assert len(_alerts(nodes[CENTRE])) == 1


def test_an_unsealed_notice_is_refused_at_the_prefecture(network: Build) -> None:
    """A municipality's envelope whose body carries no seal never gets past its prefecture."""
    nodes = network(NISHITOKYO, TOKYO, CENTRE)
    resident = _register(nodes)
    town = nodes[NISHITOKYO]
    with nodes[TOKYO].session_factory() as session:
        genuine = session.scalars(select(OutboxRow.body)).one()
    bare = _unsealed(genuine)
    with town.session_factory() as session:
        last = session.scalar(select(func.max(OutboundEnvelopeRow.sequence))) or 0
    result = _post_raw(town, TOKYO, MessageKind.IDENTITY_NOTICE, bare, sequence=last + 1)
    assert (result["status"], result["reason"]) == (
        "refused",
        "origin signature refused: no origin signature",
    )
    assert [a[:2] for a in _alerts(nodes[TOKYO])] == [("origin_signature", NISHITOKYO)]
    with nodes[TOKYO].session_factory() as session:
        relayed = session.scalar(select(func.count()).select_from(OutboxRow))
    assert relayed == 1  # only the genuine one
    assert _held_at_centre(nodes[CENTRE], resident.resident_code) is None


def test_another_towns_genuine_seal_passed_off_as_this_towns_is_refused(network: Build) -> None:
    """Hachiōji seals a notice naming Nishitokyo (it can: its key is real) and a colluding
    Tokyo relays it as Nishitokyo's: the centre wants Nishitokyo's own signature."""
    nodes = network(NISHITOKYO, HACHIOJI, TOKYO, CENTRE)
    resident = _register(nodes)
    tokyo, hachioji = nodes[TOKYO], nodes[HACHIOJI]
    assert hachioji.network is not None
    genuine = _relayed(tokyo).body
    bare = _unsealed(genuine)
    forged = seal_identity(
        MessageKind.IDENTITY_NOTICE.value, bare, net=hachioji.network, now=hachioji.now()
    )
    refused = _relay_and_refuse(nodes, forged, resident)
    centre = nodes[CENTRE]
    assert refused.reason == (
        f"origin signature refused: signed by {HACHIOJI}, not by the municipality it names"
    )
    assert [a[:2] for a in _alerts(centre)] == [("origin_signature", TOKYO)]
