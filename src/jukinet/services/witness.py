"""The witness's side of witnessed logs: check a published tree head, countersign, keep it.

A prefecture witnesses its municipalities' logs, the centre every municipality's and
prefecture's (:func:`jukinet.domain.witness.witnesses_of`). A head is countersigned only when
its node signed it (checked against the node's certificate in the CA-signed directory) and it
extends the last head this witness countersigned for that node (a consistency proof). A head
that does not — the node rewrote or cut its own log — is refused, recorded as a security alert,
and the witness keeps holding the last good head, so every later publication is refused too
until someone looks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jukinet.domain.access_log import timestamp_text
from jukinet.domain.audit_math import HASH_SIZE, SignedTreeHead
from jukinet.domain.errors import ValidationError
from jukinet.domain.network import NodeId, NodeRole, parent_of
from jukinet.domain.operators import Actor, Permission
from jukinet.domain.witness import countersigned_statement, judge_extension, may_witness
from jukinet.network.context import NetworkContext, Rejected
from jukinet.network.inbox import sign_document
from jukinet.network.witness_client import WITNESS_PATH, StaleProof, post_publication
from jukinet.services.audit import signer_certificate_pem
from jukinet.services.context import ServiceContext
from jukinet.storage.access_log import head_signature_valid
from jukinet.storage.security_alerts import LOG_REWRITTEN, raise_alert_once
from jukinet.storage.trust_tables import WitnessedHeadRow

#: Most consistency-proof hashes a publication may carry (2·log2 of any real log's size).
MAX_PROOF = 128


@dataclass(frozen=True, slots=True)
class Publication:
    """One parsed publication request."""

    witness: NodeId
    head: SignedTreeHead
    from_size: int
    proof: list[bytes]


def parse_publication(payload: Any) -> Publication:
    """The request, or :class:`Rejected` (400) saying what is malformed."""
    if not isinstance(payload, dict) or set(payload) != {"witness", "head", "from_size", "proof"}:
        raise Rejected(
            "malformed publication: expected witness, head, from_size, proof", status=400
        )
    try:
        witness = NodeId.parse(str(payload["witness"]))
        head = SignedTreeHead.from_dict(payload["head"])
        from_size = payload["from_size"]
        proof = payload["proof"]
        if not isinstance(from_size, int) or isinstance(from_size, bool) or from_size < 0:
            raise ValueError("from_size")
        if not isinstance(proof, list) or len(proof) > MAX_PROOF:
            raise ValueError("proof")
        hashes = [bytes.fromhex(str(p)) for p in proof]
        if any(len(h) != HASH_SIZE for h in hashes):
            raise ValueError("proof")
    except (ValidationError, ValueError, TypeError) as error:
        raise Rejected("malformed publication", status=400) from error
    return Publication(witness, head, from_size, hashes)


def answer_publication(
    node: ServiceContext, net: NetworkContext, *, tls_peer_der: bytes | None, payload: Any
) -> dict[str, Any]:
    """Check and countersign a published head (or relay it to the centre); the signed answer.

    Raises :class:`StaleProof` (409) when the proof starts from another size than the head
    held here, :class:`Rejected` for anything refused — a head that does not extend the held
    one is refused *and* recorded as a security alert.
    """
    net.refresh_if_republished()
    now = node.now()
    peer = NodeId.parse(net.peer_of_tls_certificate(tls_peer_der, now=now))
    publication = parse_publication(payload)
    try:
        publisher = NodeId.parse(publication.head.signer)
    except ValidationError as error:
        raise Rejected("the head names no node of the network") from error
    if publication.witness != net.node:
        return _relay(net, peer, publisher, publication, payload)
    if not may_witness(net.node, publisher):
        raise Rejected(f"{net.node} does not witness {publisher}'s log")
    relayed = net.node.role is NodeRole.NATIONAL and parent_of(publisher) == peer
    if peer != publisher and not relayed:
        raise Rejected("a node publishes only its own heads (a municipality's via its prefecture)")
    if not head_signature_valid(publication.head, net.peer_key(str(publisher), now=now)):
        raise Rejected(f"the tree head is not signed by {publisher}")
    with node.uow() as uow:
        answer = _judge_and_countersign(uow.session, net, publisher, publication, now=now)
        uow.commit()
    if isinstance(answer, str):
        raise Rejected(f"tree head refused: {answer}", status=409)
    return with_certificate(node, answer)


def _relay(
    net: NetworkContext,
    peer: NodeId,
    publisher: NodeId,
    publication: Publication,
    payload: dict[str, Any],
) -> dict[str, Any]:
    """A prefecture passes its own municipality's publication to the centre, untouched."""
    if not (
        net.node.role is NodeRole.PREFECTURE
        and publication.witness == parent_of(net.node)
        and peer == publisher
        and parent_of(publisher) == net.node
    ):
        raise Rejected(f"{net.node} is not a witness of that head, nor its relay")
    url = net.peers.get(str(publication.witness))
    if url is None:
        raise Rejected(f"{publication.witness} is not a neighbour of this node", status=502)
    try:
        return post_publication(net, url.rstrip("/") + WITNESS_PATH, payload, client=None)
    except (StaleProof, Rejected):
        raise
    except Exception as error:  # the centre is unreachable: say so, as a gateway would
        raise Rejected(
            f"{publication.witness} unreachable: {type(error).__name__}", status=502
        ) from error


def _judge_and_countersign(
    session: Session,
    net: NetworkContext,
    publisher: NodeId,
    publication: Publication,
    *,
    now: datetime,
) -> dict[str, Any] | str:
    """The countersignature, or why the head is refused (the alert then raised)."""
    held_row = session.scalars(
        select(WitnessedHeadRow)
        .where(WitnessedHeadRow.node == str(publisher))
        .order_by(WitnessedHeadRow.tree_size.desc())
        .limit(1)
        .with_for_update()
    ).first()
    held = None if held_row is None else SignedTreeHead.from_dict(held_row.head)
    head = publication.head
    if (
        held_row is not None
        and held is not None
        and (held.tree_size, held.root_hash) == (head.tree_size, head.root_hash)
    ):
        return dict(held_row.countersignature)  # published again: the same answer
    if held is not None and publication.from_size != held.tree_size:
        raise StaleProof(held.tree_size)
    problem = judge_extension(held, head, publication.proof)
    if problem is not None:
        raise_alert_once(session, kind=LOG_REWRITTEN, about=str(publisher), reason=problem, now=now)
        return problem
    statement = countersigned_statement(
        witness=str(net.node), head=head, witnessed_at=timestamp_text(now)
    )
    signed = sign_document(statement, net)
    session.add(
        WitnessedHeadRow(
            node=str(publisher),
            tree_size=head.tree_size,
            root_hash=head.root_hash,
            head=head.to_dict(),
            countersignature=signed,
            witnessed_at=now,
        )
    )
    return signed


def with_certificate(node: ServiceContext, signed: dict[str, Any]) -> dict[str, Any]:
    """The countersignature with this witness's signing certificate beside it (outside what is
    signed), so a resident holding only the network CA can check it offline."""
    return signed | {"certificate": signer_certificate_pem(node)}


@dataclass(frozen=True, slots=True)
class WitnessedHead:
    """A head this node witnessed, for the page and the API."""

    node: str
    tree_size: int
    root_hash: str
    sequence: int | None
    signed_at: str
    witnessed_at: datetime


def witnessed_heads(
    node: ServiceContext, *, actor: Actor, of: str | None = None, limit: int = 200
) -> list[WitnessedHead]:
    """The heads this node countersigned, newest first (``of``: one node's only)."""
    actor.require(Permission.READ_OUTBOX)
    query = select(WitnessedHeadRow).order_by(
        WitnessedHeadRow.witnessed_at.desc(), WitnessedHeadRow.node, WitnessedHeadRow.tree_size
    )
    if of is not None:
        query = query.where(WitnessedHeadRow.node == of)
    with node.read_session() as session:
        rows = session.scalars(query.limit(limit)).all()
        return [
            WitnessedHead(
                node=row.node,
                tree_size=row.tree_size,
                root_hash=bytes(row.root_hash).hex(),
                sequence=row.head.get("sequence"),
                signed_at=str(row.head.get("timestamp")),
                witnessed_at=row.witnessed_at,
            )
            for row in rows
        ]
