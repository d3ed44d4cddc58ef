"""Receiving envelopes: check everything, apply in order, exactly once, and acknowledge.

A request is refused whole — nothing applied — when the TLS peer, the sender, the recipient or
any signature is wrong; the refusal is recorded. Accepted envelopes are applied in sequence order
in one transaction together with the link's new sequence number, so a crash applies all or
nothing and the sender's retry is recognised by its sequence number.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jukinet.bootstrap import Node
from jukinet.domain.errors import ValidationError
from jukinet.domain.network import NodeId, NodeRole, are_neighbours, next_hop
from jukinet.network.context import NetworkContext, Rejected
from jukinet.network.envelope import Envelope, canonical_json
from jukinet.nodes import identity_store
from jukinet.nodes.identity_store import FORWARDED, QUARANTINED, Outcome
from jukinet.storage.tables import InboxRow, LinkRow, NetworkRejectionRow, OutboxRow

MAX_BATCH = 2000
ROUTED = "routed"
IDENTITY_KINDS = frozenset({"identity_notice", "identity_snapshot", "identity_withdrawal"})

#: Handlers for routed messages that reach their destination municipality: (node, session,
#: payload kind, payload, envelope) → outcome. Registered by jukinet.nodes.municipality.
RoutedHandler = Callable[[Node, Session, str, dict[str, Any], Envelope], Outcome]
ROUTED_HANDLERS: dict[str, RoutedHandler] = {}


@dataclass(frozen=True, slots=True)
class Result:
    """What the receiver says about one envelope."""

    sequence: int
    id: str
    status: str
    reason: str | None

    def as_dict(self) -> dict[str, Any]:
        """Wire form."""
        return {
            "sequence": self.sequence,
            "id": self.id,
            "status": self.status,
            "reason": self.reason,
        }


def sign_document(document: dict[str, Any], net: NetworkContext) -> dict[str, Any]:
    """A document with this node's Ed25519 signature over its canonical bytes."""
    signature = net.signing_key.sign(canonical_json(document))
    return {"document": document, "signature": base64.b64encode(signature).decode("ascii")}


def verify_document(
    signed: dict[str, Any], *, signer: str, net: NetworkContext, node: Node
) -> dict[str, Any]:
    """The document if ``signer`` signed it; :class:`Rejected` otherwise."""
    try:
        document = dict(signed["document"])
        signature = base64.b64decode(str(signed["signature"]), validate=True)
        net.peer_key(signer, now=node.now()).verify(signature, canonical_json(document))
    except Rejected:
        raise
    except Exception as error:
        raise Rejected(f"bad signature on the document from {signer}") from error
    return document


def record_rejection(
    node: Node,
    *,
    reason: str,
    claimed_sender: str | None,
    tls_peer: str | None,
    envelope_id: str | None,
) -> None:
    """Keep a refused request on record (its own transaction: the request itself is dropped)."""
    with node.session_factory() as session, session.begin():
        session.add(
            NetworkRejectionRow(
                claimed_sender=(claimed_sender or "")[:60] or None,
                tls_peer=tls_peer,
                reason=reason[:200],
                envelope_id=(envelope_id or "")[:60] or None,
                received_at=node.now(),
            )
        )


def receive(
    node: Node, net: NetworkContext, *, tls_peer_der: bytes | None, payload: Any
) -> dict[str, Any]:
    """Handle one POST of envelopes from a neighbour; returns the signed acknowledgement."""
    tls_peer: str | None = None
    first: dict[str, Any] = {}
    try:
        net.refresh_if_republished()
        tls_peer = net.peer_of_tls_certificate(tls_peer_der, now=node.now())
        raw = payload.get("envelopes") if isinstance(payload, dict) else None
        if not isinstance(raw, list) or not raw or len(raw) > MAX_BATCH:
            raise Rejected(f"expected 1 to {MAX_BATCH} envelopes", status=400)
        first = raw[0] if isinstance(raw[0], dict) else {}
        envelopes = [_parse(item) for item in raw]
        for envelope in envelopes:
            _check(envelope, tls_peer=tls_peer, net=net, node=node)
    except Rejected as rejection:
        record_rejection(
            node,
            reason=rejection.reason,
            claimed_sender=str(first.get("sender", "")) or None,
            tls_peer=tls_peer,
            envelope_id=str(first.get("id", "")) or None,
        )
        raise
    results, acked_through = _apply(node, net, tls_peer, envelopes)
    return sign_document(
        {
            "receiver": str(net.node),
            "sender": tls_peer,
            "acked_through": acked_through,
            "results": [r.as_dict() for r in results],
        },
        net,
    )


def _parse(item: Any) -> Envelope:
    if not isinstance(item, dict):
        raise Rejected("malformed envelope", status=400)
    try:
        return Envelope.from_dict(item)
    except ValueError as error:
        raise Rejected(str(error), status=400) from error


def _check(envelope: Envelope, *, tls_peer: str, net: NetworkContext, node: Node) -> None:
    if envelope.sender != tls_peer:
        raise Rejected("the envelope's sender is not the TLS peer")
    if envelope.recipient != str(net.node):
        raise Rejected("unknown recipient")
    try:
        sender = NodeId.parse(envelope.sender)
    except ValidationError as error:
        raise Rejected("unknown sender") from error
    if not are_neighbours(sender, net.node):
        raise Rejected("the sender is not a neighbour of this node")
    net.verify(envelope, now=node.now())


def _apply(
    node: Node, net: NetworkContext, peer: str, envelopes: list[Envelope]
) -> tuple[list[Result], int]:
    results: list[Result] = []
    with node.session_factory() as session, session.begin():
        link = session.scalars(
            select(LinkRow).where(LinkRow.peer == peer).with_for_update()
        ).one_or_none()
        if link is None:
            link = LinkRow(peer=peer, last_sent=0, last_acked=0, last_received=0)
            session.add(link)
            session.flush()
        ordered = sorted(envelopes, key=lambda e: e.sequence)
        subjects = {s for e in ordered if (s := identity_store.subject_of(e.body))}
        # One query each for the whole batch instead of one per envelope.
        held = identity_store.held_subjects(session, subjects)
        identity_store.prefetch_records(session, subjects)
        identity_store.start_bulk(session)
        inbox_rows = identity_store.bulk_buffer(session, InboxRow)
        assert inbox_rows is not None
        for envelope in ordered:
            if envelope.sequence <= link.last_received:
                results.append(_duplicate(session, envelope))
                continue
            if envelope.sequence != link.last_received + 1:
                results.append(
                    Result(
                        envelope.sequence,
                        envelope.id,
                        "gap",
                        f"expected sequence {link.last_received + 1}",
                    )
                )
                break
            with session.no_autoflush:
                outcome, subject = _dispatch(node, net, session, envelope, held)
            inbox_rows.append(
                {
                    "sender": peer,
                    "sequence": envelope.sequence,
                    "envelope_id": envelope.id,
                    "kind": envelope.kind,
                    "subject": subject,
                    "status": outcome.status,
                    "reason": outcome.reason,
                    # Kept only while quarantined or held, so it can be inspected and re-applied.
                    "body": envelope.body
                    if outcome.status in (QUARANTINED, identity_store.HELD)
                    else None,
                    "received_at": node.now(),
                }
            )
            link.last_received = envelope.sequence
            results.append(Result(envelope.sequence, envelope.id, outcome.status, outcome.reason))
        identity_store.flush_bulk(session)
        acked_through = link.last_received
    if any(r.status == "gap" for r in results):
        gap = next(r for r in results if r.status == "gap")
        record_rejection(
            node,
            reason=f"sequence gap: {gap.reason}",
            claimed_sender=peer,
            tls_peer=peer,
            envelope_id=gap.id,
        )
    return results, acked_through


def _duplicate(session: Session, envelope: Envelope) -> Result:
    row = session.get(InboxRow, (envelope.sender, envelope.sequence))
    if row is None or row.envelope_id != envelope.id:
        return Result(
            envelope.sequence,
            envelope.id,
            "replay",
            "this sequence number was already used by another envelope",
        )
    return Result(envelope.sequence, envelope.id, row.status, row.reason)


def _dispatch(
    node: Node, net: NetworkContext, session: Session, envelope: Envelope, held: set[str]
) -> tuple[Outcome, str | None]:
    here = net.node
    if envelope.kind == ROUTED:
        return _route(node, net, session, envelope), None
    if envelope.kind in IDENTITY_KINDS and here.role is not NodeRole.MUNICIPALITY:
        outcome, subject = identity_store.receive_identity_message(
            session,
            here=here,
            sender=envelope.sender,
            kind=envelope.kind,
            body=envelope.body,
            envelope_id=envelope.id,
            now=node.now(),
            today=node.today(),
            held=held,
        )
        if outcome.forward and here.role is NodeRole.PREFECTURE:
            forwarded = {
                "kind": envelope.kind,
                "recipient": "national:jlis",
                "subject": subject,
                "body": envelope.body,
                "created_at": node.now(),
            }
            buffered = identity_store.bulk_buffer(session, OutboxRow)
            if buffered is not None:
                buffered.append(forwarded)
            else:
                session.add(OutboxRow(**forwarded))
        return outcome, subject
    return Outcome(QUARANTINED, f"this node does not accept {envelope.kind!r}"), None


def _route(node: Node, net: NetworkContext, session: Session, envelope: Envelope) -> Outcome:
    body = envelope.body
    try:
        destination = NodeId.parse(str(body.get("destination", "")))
        kind = str(body["kind"])
        payload = dict(body["payload"])
    except (ValidationError, KeyError, TypeError, ValueError):
        return Outcome(QUARANTINED, "malformed routed message")
    if destination == net.node:
        handler = ROUTED_HANDLERS.get(kind)
        if handler is None:
            return Outcome(QUARANTINED, f"no handler for routed {kind!r}")
        return handler(node, session, kind, payload, envelope)
    # Passing through: queue for the next hop; the body is dropped once delivered.
    session.add(
        OutboxRow(
            kind=ROUTED,
            recipient=str(next_hop(net.node, destination)),
            subject=None,
            body=body,
            created_at=node.now(),
        )
    )
    return Outcome(FORWARDED)
