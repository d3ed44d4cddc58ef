"""Sending: drain the outbox to each neighbour, in order, retried until acknowledged.

Messages are numbered per link and signed once, when they are first put on the link; a retry
resends the same bytes with the same sequence number, and the receiver's inbox recognises it.
Nothing is marked delivered until the neighbour's signed acknowledgement says so.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import httpx
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from jukinet.domain.messages import MessageKind
from jukinet.network.context import NetworkContext, Rejected
from jukinet.network.envelope import Envelope, new_envelope
from jukinet.network.inbox import verify_document
from jukinet.network.node import NetworkNode
from jukinet.network.origin import seal_outgoing
from jukinet.storage.tables import LinkRow, OutboundEnvelopeRow, OutboxRow

log = logging.getLogger(__name__)

PENDING = "pending"
INBOX_PATH = "/network/v1/inbox"


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What one round on a link did."""

    sent: int
    acknowledged: int


def _link(session: Session, peer: str) -> LinkRow:
    link = session.scalars(
        select(LinkRow).where(LinkRow.peer == peer).with_for_update()
    ).one_or_none()
    if link is None:
        link = LinkRow(peer=peer, last_sent=0, last_acked=0, last_received=0)
        session.add(link)
        session.flush()
    return link


def prepare_batch(
    node: NetworkNode, net: NetworkContext, peer: str, *, limit: int
) -> list[Envelope]:
    """The next envelopes for ``peer``: unacknowledged ones first, then newly numbered ones."""
    with node.session_factory() as session:
        # A cheap look first: most polls find nothing and should not take the link's lock.
        anything = session.scalars(
            select(OutboxRow.id)
            .where(OutboxRow.recipient == peer, OutboxRow.delivered_at.is_(None))
            .limit(1)
        ).first()
        if anything is None:
            return []
    with node.session_factory() as session, session.begin():
        link = _link(session, peer)
        waiting = list(
            session.scalars(
                select(OutboundEnvelopeRow)
                .where(OutboundEnvelopeRow.peer == peer, OutboundEnvelopeRow.acked_at.is_(None))
                .order_by(OutboundEnvelopeRow.sequence)
                .limit(limit)
            )
        )
        envelopes = [Envelope.from_dict(row.envelope) for row in waiting]
        room = limit - len(envelopes)
        if room <= 0:
            return envelopes
        already_numbered = (
            select(OutboundEnvelopeRow.outbox_id)
            .where(OutboundEnvelopeRow.outbox_id == OutboxRow.id)
            .exists()
        )
        fresh = session.execute(
            select(OutboxRow.id, OutboxRow.kind, OutboxRow.body, OutboxRow.created_at)
            .where(
                OutboxRow.recipient == peer,
                OutboxRow.delivered_at.is_(None),
                ~already_numbered,
            )
            .order_by(OutboxRow.id)
            .limit(room)
        ).all()
        now = node.now()
        rows = []
        for outbox_id, kind, body, queued_at in fresh:
            link.last_sent += 1
            # Sealed as of when the change was committed, so the receiving end can tell how
            # long it took (delivery deadlines), however long the link was down before.
            made_at = queued_at if queued_at.tzinfo else queued_at.replace(tzinfo=UTC)
            envelope = net.sign(
                new_envelope(
                    sender=str(net.node),
                    recipient=peer,
                    kind=kind,
                    sequence=link.last_sent,
                    now=now,
                    body=seal_outgoing(kind, body, net=net, now=min(made_at, now)),
                )
            )
            rows.append(
                {
                    "outbox_id": outbox_id,
                    "peer": peer,
                    "sequence": link.last_sent,
                    "envelope": envelope.as_dict(),
                    "status": PENDING,
                }
            )
            envelopes.append(envelope)
        if rows:
            session.flush()  # the link's new last_sent goes in the same transaction
            session.connection().execute(insert(OutboundEnvelopeRow), rows)
        return envelopes


def record_ack(node: NetworkNode, peer: str, ack: dict[str, Any]) -> int:
    """Mark acknowledged envelopes delivered; returns how many were newly acknowledged."""
    now = node.now()
    unusual = {
        int(r["sequence"]): r
        for r in ack.get("results", [])
        if r.get("status") not in ("gap", "replay", "applied", None)
    }
    acked_through = int(ack.get("acked_through", 0))
    with node.session_factory() as session, session.begin():
        link = _link(session, peer)
        pending = (
            OutboundEnvelopeRow.peer == peer,
            OutboundEnvelopeRow.acked_at.is_(None),
            OutboundEnvelopeRow.sequence <= acked_through,
        )
        ids = list(session.scalars(select(OutboundEnvelopeRow.outbox_id).where(*pending)))
        if ids:
            for sequence, result in unusual.items():
                session.execute(
                    update(OutboundEnvelopeRow)
                    .where(*pending, OutboundEnvelopeRow.sequence == sequence)
                    .values(status=str(result["status"]), reason=result.get("reason"), acked_at=now)
                )
            session.execute(
                update(OutboundEnvelopeRow).where(*pending).values(status="applied", acked_at=now)
            )
            session.execute(update(OutboxRow).where(OutboxRow.id.in_(ids)).values(delivered_at=now))
            # Messages routed through this node are not kept once the next hop has them.
            routed = select(OutboxRow.id).where(
                OutboxRow.id.in_(ids), OutboxRow.kind == MessageKind.ROUTED.value
            )
            session.execute(
                update(OutboundEnvelopeRow)
                .where(OutboundEnvelopeRow.outbox_id.in_(routed))
                .values(envelope={})
            )
            session.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_(ids), OutboxRow.kind == MessageKind.ROUTED.value)
                .values(body={})
            )
        link.last_acked = max(link.last_acked, acked_through)
        link.last_success_at = now
        link.last_attempt_at = now
        link.last_error = None
    return len(ids)


def record_failure(node: NetworkNode, peer: str, error: str) -> None:
    """Note a failed attempt on the link (shown in the delivery ledger)."""
    with node.session_factory() as session, session.begin():
        link = _link(session, peer)
        link.last_error = error[:400]
        link.last_attempt_at = node.now()


class LinkSender:
    """Delivers the outbox to one neighbour over HTTPS with mutual TLS."""

    def __init__(
        self,
        node: NetworkNode,
        net: NetworkContext,
        peer: str,
        *,
        client: httpx.Client | None = None,
    ) -> None:
        self.node = node
        self.net = net
        self.peer = peer
        self.url = net.peers[peer].rstrip("/") + INBOX_PATH
        self.client = client or httpx.Client(verify=net.client_ssl_context(), timeout=30.0)

    def deliver_once(self) -> DeliveryReport:
        """Send one batch and record the acknowledgement; raises on transport faults.

        A municipality that is not connected sends nothing: its outbox waits for the day it
        connects (an operator's decision, :mod:`jukinet.services.participation`).
        """
        if not self.node.connected:
            return DeliveryReport(sent=0, acknowledged=0)
        if self.node.emergency.link_cut(self.peer, self.node.now()) is not None:
            # An emergency disconnect (jukinet.services.emergency): the outbox keeps everything
            # in order and this link drains it when the cut ends or expires.
            return DeliveryReport(sent=0, acknowledged=0)
        batch = prepare_batch(
            self.node, self.net, self.peer, limit=self.node.settings.delivery_batch
        )
        if not batch:
            return DeliveryReport(sent=0, acknowledged=0)
        response = self.client.post(self.url, json={"envelopes": [e.as_dict() for e in batch]})
        if response.status_code != 200:
            msg = f"HTTP {response.status_code}: {response.text[:200]}"
            raise Rejected(msg, status=response.status_code)
        ack = verify_document(response.json(), signer=self.peer, net=self.net, node=self.node)
        if ack.get("receiver") != self.peer or ack.get("sender") != str(self.net.node):
            raise Rejected("the acknowledgement is not for this link")
        acknowledged = record_ack(self.node, self.peer, ack)
        return DeliveryReport(sent=len(batch), acknowledged=acknowledged)

    def close(self) -> None:
        """Close the HTTP client."""
        self.client.close()


class DeliveryWorker(threading.Thread):
    """Keeps one link drained: polls the outbox, backs off exponentially while the peer is away."""

    def __init__(
        self,
        sender: LinkSender,
        *,
        poll_seconds: float = 0.05,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(name=f"delivery-{sender.peer}", daemon=True)
        self.sender = sender
        self.poll_seconds = poll_seconds
        self.stopping = threading.Event()
        self.wake = threading.Event()
        self.on_error = on_error

    def run(self) -> None:
        """Deliver until stopped."""
        backoff = 0.0
        max_backoff = self.sender.node.settings.delivery_max_backoff_seconds
        while not self.stopping.is_set():
            try:
                report = self.sender.deliver_once()
                backoff = 0.0
                if report.sent == 0:
                    self.wake.wait(self.poll_seconds)
                    self.wake.clear()
            except Exception as error:
                message = f"{type(error).__name__}: {error}"
                log.warning("delivery to %s failed: %s", self.sender.peer, message[:200])
                try:
                    record_failure(self.sender.node, self.sender.peer, message)
                except Exception:  # the database may itself be the fault: log and keep going
                    log.exception("could not record the delivery failure")
                if self.on_error:
                    self.on_error(message)
                backoff = min(max_backoff, max(0.2, backoff * 2))
                self.stopping.wait(backoff)
        self.sender.close()

    def stop(self) -> None:
        """Ask the worker to finish its current round and stop."""
        self.stopping.set()
        self.wake.set()
