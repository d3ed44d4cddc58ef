"""The publisher's side of witnessed logs: send each signed tree head to the node's witnesses
and keep their countersignatures.

Runs on the node's schedule (``jukinet.runtime.background.head_publisher``), on demand
(``jukinet audit publish``), and for a disclosure, whose head is then countersigned before the
resident gets it. Each witness gets the head with a consistency proof from the last head it
countersigned (kept here); if the witness holds another (a countersignature lost here), it
says which and the proof is made again from there, once.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select

from jukinet.domain.audit_math import SignedTreeHead
from jukinet.domain.network import NodeId
from jukinet.domain.operators import Actor
from jukinet.domain.witness import WITNESS_FORMAT, witnesses_of
from jukinet.network.context import NetworkContext, Rejected
from jukinet.network.inbox import verify_document
from jukinet.network.witness_client import WITNESS_PATH, StaleProof, post_publication
from jukinet.services import audit
from jukinet.services.context import ServiceContext
from jukinet.storage import access_log as store
from jukinet.storage.security_alerts import raise_alert_once
from jukinet.storage.trust_tables import HeadCountersignatureRow

log = logging.getLogger(__name__)

#: Alert kind at the publisher when a witness refuses its head.
WITNESS_REFUSED = "witness_refused"


@dataclass(frozen=True, slots=True)
class PublicationResult:
    """What one witness said about one head."""

    witness: str
    tree_size: int
    witnessed: bool
    problem: str | None = None


def publish(node: ServiceContext, *, client: httpx.Client | None = None) -> list[PublicationResult]:
    """Sign a head over the log as it stands (if it grew) and publish it to every witness."""
    head = audit.publish_tree_head(node)
    return publish_head(node, head, client=client)


def publish_head(
    node: ServiceContext, head: SignedTreeHead, *, client: httpx.Client | None = None
) -> list[PublicationResult]:
    """Publish ``head`` to every witness of this node (none off the network or at the centre)."""
    net = node.network
    if net is None:
        return []
    witnesses = list(witnesses_of(net.node))
    if client is not None or len(witnesses) < 2:
        return [_publish_to(node, net, head, witness, client) for witness in witnesses]
    # A town's two witnesses (its prefecture, the centre through it) are asked at once: a
    # disclosure waits for both countersignatures, not for one after the other.
    with ThreadPoolExecutor(max_workers=len(witnesses)) as pool:
        return list(
            pool.map(lambda witness: _publish_to(node, net, head, witness, None), witnesses)
        )


def _last_witnessed(node: ServiceContext, witness: str) -> int:
    with node.read_session() as session:
        size = session.scalar(
            select(HeadCountersignatureRow.tree_size)
            .where(HeadCountersignatureRow.witness == witness)
            .order_by(HeadCountersignatureRow.tree_size.desc())
            .limit(1)
        )
    return int(size or 0)


def _proof(node: ServiceContext, from_size: int, to_size: int) -> list[str]:
    if from_size <= 0 or from_size >= to_size:
        return []  # nothing to prove (or nothing this log can prove: the witness judges)
    with node.read_session() as session:
        return [p.hex() for p in store.consistency_proof(session, from_size, to_size)]


def _publish_to(
    node: ServiceContext,
    net: NetworkContext,
    head: SignedTreeHead,
    witness: NodeId,
    client: httpx.Client | None,
) -> PublicationResult:
    name = str(witness)
    from_size = _last_witnessed(node, name)
    if from_size == head.tree_size and _countersignature(node, name, head.tree_size):
        return PublicationResult(name, head.tree_size, witnessed=True)
    # A municipality reaches the centre through its prefecture, which relays.
    via = name if name in net.peers else node.upstream
    url = net.peers[via].rstrip("/") + WITNESS_PATH
    try:
        for _attempt in range(2):
            request = {
                "witness": name,
                "head": head.to_dict(),
                "from_size": from_size,
                "proof": _proof(node, from_size, head.tree_size),
            }
            try:
                signed = post_publication(net, url, request, client=client)
            except StaleProof as stale:
                from_size = stale.held_size
                continue
            _keep(node, net, head, name, signed)
            return PublicationResult(name, head.tree_size, witnessed=True)
        raise Rejected("the witness changed the head it holds twice")
    except Rejected as refusal:
        return _refused(node, head, name, refusal)
    except (httpx.HTTPError, OSError) as error:
        problem = f"{name} unreachable: {type(error).__name__}"
        log.warning("tree head publication: %s", problem)
        return PublicationResult(name, head.tree_size, witnessed=False, problem=problem)


def _refused(
    node: ServiceContext, head: SignedTreeHead, witness: str, refusal: Rejected
) -> PublicationResult:
    problem = refusal.reason[:300]
    if refusal.status == 409:
        # The witness says this log does not extend what it countersigned: tell our own
        # security console too (someone changed this node's log, or its witness is wrong).
        with node.uow() as uow:
            raise_alert_once(
                uow.session,
                kind=WITNESS_REFUSED,
                about=witness,
                reason=f"head of {head.tree_size} entries refused: {problem}",
                now=node.now(),
            )
            uow.commit()
    else:
        log.warning("tree head publication to %s refused: %s", witness, problem)
    return PublicationResult(witness, head.tree_size, witnessed=False, problem=problem)


def _keep(
    node: ServiceContext,
    net: NetworkContext,
    head: SignedTreeHead,
    witness: str,
    signed: dict[str, Any],
) -> None:
    """Store a countersignature after checking it is the witness's, over exactly ``head``."""
    document = verify_document(signed, signer=witness, net=net, node=node)
    if document.get("format") != WITNESS_FORMAT or document.get("witness") != witness:
        raise Rejected(f"the answer of {witness} is not a countersignature")
    if document.get("head") != head.to_dict():
        raise Rejected(f"{witness} countersigned another head")
    with node.uow() as uow:
        if uow.session.get(HeadCountersignatureRow, (witness, head.tree_size)) is None:
            uow.session.add(
                HeadCountersignatureRow(
                    witness=witness,
                    tree_size=head.tree_size,
                    countersignature=signed,
                    witnessed_at=node.now(),
                )
            )
        uow.commit()


def _countersignature(node: ServiceContext, witness: str, tree_size: int) -> dict[str, Any] | None:
    with node.read_session() as session:
        row = session.get(HeadCountersignatureRow, (witness, tree_size))
        return None if row is None else dict(row.countersignature)


def countersignatures(node: ServiceContext, tree_size: int) -> list[dict[str, Any]]:
    """Every witness's countersignature of this node's head of ``tree_size`` entries."""
    with node.read_session() as session:
        rows = session.scalars(
            select(HeadCountersignatureRow)
            .where(HeadCountersignatureRow.tree_size == tree_size)
            .order_by(HeadCountersignatureRow.witness)
        ).all()
        return [dict(row.countersignature) for row in rows]


def witnessed_disclosure(
    node: ServiceContext, *, actor: Actor, request: audit.DisclosureRequest
) -> dict[str, Any]:
    """A disclosure (:func:`jukinet.services.audit.disclose`) whose head is published to the
    node's witnesses first, with their countersignatures under ``witnesses``.

    A witness that cannot be reached leaves its countersignature out; the proofs still check
    against the node's own signature (``jukinet audit check-proof`` says who witnessed).
    """
    document = audit.disclose(node, actor=actor, request=request)
    head = SignedTreeHead.from_dict(document["tree_head"])
    publish_head(node, head)
    document["witnesses"] = countersignatures(node, head.tree_size)
    return document
