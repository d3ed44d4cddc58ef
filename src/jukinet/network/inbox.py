"""Receiving envelopes: check everything, apply in order, exactly once, and acknowledge.

A request is refused whole — nothing applied — when the TLS peer, the sender, the recipient or
any signature is wrong; the refusal is recorded. Accepted envelopes are applied in sequence order
in one transaction together with the link's new sequence number, so a crash applies all or
nothing and the sender's retry is recognised by its sequence number.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jukinet.domain.errors import ValidationError
from jukinet.domain.messages import ORIGIN_SEALED_KINDS, MessageKind
from jukinet.domain.network import NodeId, NodeRole, are_neighbours, next_hop
from jukinet.network import late_arrivals, seal_memory
from jukinet.network.context import NetworkContext, Rejected
from jukinet.network.envelope import Envelope, canonical_json
from jukinet.network.handlers import (
    FORWARDED,
    HELD,
    QUARANTINED,
    REFUSED,
    Delivery,
    HandlerTable,
    Outcome,
    subject_of,
)
from jukinet.network.node import NetworkNode
from jukinet.network.origin import (
    MESSAGE_ID,
    ORIGIN_REFUSED,
    SEALED_KINDS,
    open_identity,
    verify_sealed,
)
from jukinet.storage import bulk
from jukinet.storage.security_alerts import ORIGIN_REPLAY, ORIGIN_SIGNATURE, raise_alert
from jukinet.storage.tables import (
    InboxRow,
    LinkRow,
    NetworkRejectionRow,
    OutboxRow,
    RoutedReceiptRow,
)

MAX_BATCH = 2000
#: Statuses whose body is kept: to inspect and re-apply a fault, or as evidence of a refusal.
_KEPT = (QUARANTINED, HELD, REFUSED)


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
    signed: dict[str, Any], *, signer: str, net: NetworkContext, node: NetworkNode
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
    node: NetworkNode,
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


def record_handshake_refusals(node: NetworkNode, net: NetworkContext) -> int:
    """Write the TLS handshakes the server refused since the last call; returns how many."""
    taken, dropped = net.handshake_refusals.take()
    if not taken and not dropped:
        return 0
    with node.session_factory() as session, session.begin():
        session.add_all(
            NetworkRejectionRow(reason=refusal.reason, received_at=refusal.at) for refusal in taken
        )
        if dropped:
            session.add(
                NetworkRejectionRow(
                    reason=f"TLS handshake refused: {dropped} more not kept (flood)",
                    received_at=node.now(),
                )
            )
    return len(taken) + dropped


def receive(
    node: NetworkNode,
    net: NetworkContext,
    handlers: HandlerTable,
    *,
    tls_peer_der: bytes | None,
    payload: Any,
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
    results, acked_through = _apply(node, net, handlers, tls_peer, envelopes)
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


def _check(envelope: Envelope, *, tls_peer: str, net: NetworkContext, node: NetworkNode) -> None:
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
    node: NetworkNode,
    net: NetworkContext,
    handlers: HandlerTable,
    peer: str,
    envelopes: list[Envelope],
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
        subjects = {s for e in ordered if (s := subject_of(e.body))}
        # One query each for the whole batch instead of one per envelope.
        held = _held_subjects(session, subjects)
        if handlers.prepare is not None:
            handlers.prepare(session, subjects)
        seal_memory.prefetch(session, ordered)
        late = late_arrivals.LateArrivals(peer, node.settings.delivery_deadlines, node.now())
        bulk.start_buffering(session)
        inbox_rows = bulk.buffer_for(session, InboxRow)
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
                outcome, subject = _dispatch(node, net, handlers, session, envelope, held)
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
                    "body": envelope.body if outcome.status in _KEPT else None,
                    "received_at": node.now(),
                }
            )
            link.last_received = envelope.sequence
            if outcome.status != REFUSED:  # a refusal is evidence, not a late delivery
                late.note(envelope)
            results.append(Result(envelope.sequence, envelope.id, outcome.status, outcome.reason))
        late.record(session)
        bulk.flush_buffers(session)
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


def _held_subjects(session: Session, subjects: set[str]) -> set[str]:
    """Which of these residents have an earlier message quarantined or held (one query)."""
    if not subjects:
        return set()
    return set(
        session.scalars(
            select(InboxRow.subject).where(
                InboxRow.subject.in_(subjects), InboxRow.status.in_((QUARANTINED, HELD))
            )
        )
    )


def _replayed(
    node: NetworkNode, session: Session, envelope: Envelope, origin: NodeId, kind: MessageKind
) -> Outcome | None:
    """A refusal (and an alert naming the node that handed it over) when this verified seal
    was received here before; ``None`` the first time (now remembered)."""
    replayed = seal_memory.check_and_note(
        session, origin=origin, sealed=envelope.body, kind=kind.value, now=node.now()
    )
    if replayed is None:
        return None
    raise_alert(
        session,
        kind=ORIGIN_REPLAY,
        about=envelope.sender,
        reason=f"{kind.value} {envelope.id} handed over by {envelope.sender}: {replayed}",
        now=node.now(),
    )
    return Outcome(REFUSED, replayed)


def _dispatch(
    node: NetworkNode,
    net: NetworkContext,
    handlers: HandlerTable,
    session: Session,
    envelope: Envelope,
    held: set[str],
) -> tuple[Outcome, str | None]:
    try:
        kind = MessageKind(envelope.kind)
    except ValueError:
        return Outcome(QUARANTINED, f"unknown kind {envelope.kind!r}"), None
    if kind is MessageKind.ROUTED:
        return _route(node, net, handlers, session, envelope), None
    handler = handlers.direct.get(kind)
    if handler is None:
        return Outcome(QUARANTINED, f"this node does not accept {envelope.kind!r}"), None
    subject = subject_of(envelope.body)
    if subject is not None and subject in held:
        # Later messages for a resident wait behind a quarantined one; others keep flowing.
        return Outcome(HELD, "held behind an earlier quarantined notice for this resident"), subject
    body, origin = envelope.body, None
    if kind in SEALED_KINDS:
        # The originating municipality's seal, checked at every tier: a relay that altered,
        # stripped or re-signed the body is caught here, whoever handed it over.
        try:
            origin, body = open_identity(kind.value, envelope.body, net=net, now=node.now())
        except Rejected as rejection:
            reason = f"{ORIGIN_REFUSED}: {rejection.reason}"[:200]
            raise_alert(
                session,
                kind=ORIGIN_SIGNATURE,
                about=envelope.sender,
                reason=f"{kind.value} {envelope.id} handed over by {envelope.sender}: {reason}",
                now=node.now(),
            )
            return Outcome(REFUSED, reason), subject
        replayed = _replayed(node, session, envelope, origin, kind)
        if replayed is not None:
            return replayed, subject
    elif kind in ORIGIN_SEALED_KINDS:
        # An incident notice or an order of the centre: the handler judges whether its
        # origin may say it; a seal that is missing or not the named origin's is refused here.
        try:
            origin, body = verify_sealed(envelope.body, net=net, now=node.now())
        except Rejected as rejection:
            reason = f"{ORIGIN_REFUSED}: {rejection.reason}"[:200]
            raise_alert(
                session,
                kind=ORIGIN_SIGNATURE,
                about=envelope.sender,
                reason=f"{kind.value} {envelope.id} handed over by {envelope.sender}: {reason}",
                now=node.now(),
            )
            return Outcome(REFUSED, reason), subject
        # A relay holds the genuine orders and notices it passed on: handing one over again
        # (an old quarantine, or the lifting of one) is a replay, refused like a notice's.
        replayed = _replayed(node, session, envelope, origin, kind)
        if replayed is not None:
            return replayed, subject
    outcome = handler(Delivery(session, envelope, kind, body, origin=origin))
    if subject is not None and outcome.status == QUARANTINED:
        held.add(subject)
    parent = node.parent
    if outcome.forward and parent is not None:
        bulk.add_row(
            session,
            OutboxRow,
            {
                "kind": kind.value,
                "recipient": str(parent),
                "subject": subject,
                "body": envelope.body,
                "created_at": node.now(),
            },
        )
    return outcome, subject


def _route(
    node: NetworkNode,
    net: NetworkContext,
    handlers: HandlerTable,
    session: Session,
    envelope: Envelope,
) -> Outcome:
    body = envelope.body
    try:
        destination = NodeId.parse(str(body.get("destination", "")))
        kind_text = str(body["kind"])
        payload = dict(body["payload"])
    except (ValidationError, KeyError, TypeError, ValueError):
        return Outcome(QUARANTINED, "malformed routed message")
    problem, origin, message_id = _check_origin(node, net, envelope)
    if problem is not None or origin is None:
        # Checked at every hop, so an unsigned or forged message stops at the first one.
        return Outcome(REFUSED, problem)
    if destination == net.node:
        try:
            kind = MessageKind(kind_text)
        except ValueError:
            kind = None
        handler = handlers.routed.get(kind) if kind is not None else None
        if kind is None or handler is None:
            return Outcome(QUARANTINED, f"no handler for routed {kind_text!r}")
        if session.get(RoutedReceiptRow, (str(origin), message_id)) is not None:
            return Outcome(REFUSED, "replay of a routed message already received")
        session.add(
            RoutedReceiptRow(
                origin=str(origin),
                message_id=message_id,
                kind=kind.value,
                statement=body,
                received_at=node.now(),
            )
        )
        return handler(Delivery(session, envelope, kind, payload, origin=origin))
    # Passing through: queue for the next hop; the body is dropped once delivered.
    session.add(
        OutboxRow(
            kind=MessageKind.ROUTED.value,
            recipient=str(next_hop(net.node, destination)),
            subject=None,
            body=body,
            created_at=node.now(),
        )
    )
    return Outcome(FORWARDED)


def _check_origin(
    node: NetworkNode, net: NetworkContext, envelope: Envelope
) -> tuple[str | None, NodeId | None, str]:
    """(problem, origin, message id) of a routed message: only a municipality originates one,
    and a municipality hands over only what it signed itself (it relays nothing)."""
    try:
        origin, statement = verify_sealed(envelope.body, net=net, now=node.now())
    except Rejected as rejection:
        return f"routed message refused: {rejection.reason}", None, ""
    if origin.role is not NodeRole.MUNICIPALITY:
        return "routed message refused: only a municipality originates one", None, ""
    sender = NodeId.parse(envelope.sender)
    if sender.role is NodeRole.MUNICIPALITY and sender != origin:
        return "routed message refused: a municipality may only send its own", None, ""
    return None, origin, str(statement[MESSAGE_ID])[:64]
