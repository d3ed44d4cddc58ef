"""Statements sealed by the node that made them, so their origin survives every hop.

An envelope is signed by the neighbour that hands it over and signed again at each hop, so by
itself it proves only who relayed a message. Three things must prove who *made* them:

- a routed message (a move-in notice, 転入通知, on its way to the old municipality through the
  prefectures and the centre): the destination acts on it only if the municipality it speaks
  for signed it;
- the hand-over an identity notice for a move-in carries up the tiers: the same statement,
  which lets a prefecture or the centre move a resident from the municipality that held them
  to the one that signed the move-in, and nothing else;
- every identity message (notice, snapshot, withdrawal): the municipality seals its body when it
  first puts it on its link, the prefecture forwards the sealed body unchanged, and the
  prefecture and the centre each check the seal against the municipality's certificate — so
  the centre detects a prefecture that altered a notice in transit, not only the last hop;
- every card status notice (a card valid, suspended or invalid): sealed and checked the same
  way, so no relay can suspend or revive another municipality's cards.

A sealed statement is the statement plus ``origin`` (the signer's node name), ``sealed_at``,
``message_id`` (so the destination can refuse a replay) and ``origin_signature``: Ed25519 over
the canonical bytes of everything but the signature, checked against the signer's certificate
in the network directory (CA- and CRL-checked), never against a key the message supplies.
"""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from typing import Any, Final

from cryptography.exceptions import InvalidSignature

from jukinet.domain.errors import ValidationError
from jukinet.domain.identity import HANDOVER_KEY
from jukinet.domain.messages import IDENTITY_KINDS, ORIGIN_SEALED_KINDS, MessageKind
from jukinet.domain.network import NodeId, NodeRole
from jukinet.network.context import NetworkContext, Rejected
from jukinet.network.envelope import canonical_json

ORIGIN: Final = "origin"
SEALED_AT: Final = "sealed_at"
MESSAGE_ID: Final = "message_id"
ORIGIN_SIGNATURE: Final = "origin_signature"
#: In a sealed identity message: the envelope kind it was sealed for (a relay cannot pass a
#: snapshot off as a notice, or the reverse).
SEALED_KIND: Final = "sealed_kind"
#: How a refusal of an identity message for its originating municipality's seal begins.
ORIGIN_REFUSED: Final = "origin signature refused"
#: Kinds whose body the originating municipality seals (checked at every tier).
SEALED_KINDS: Final = IDENTITY_KINDS | {MessageKind.CARD_STATUS_NOTICE}


def is_sealed(statement: Any) -> bool:
    """Whether ``statement`` already carries an origin signature (sealed here or upstream)."""
    return isinstance(statement, dict) and ORIGIN_SIGNATURE in statement


def seal(statement: dict[str, Any], *, net: NetworkContext, now: datetime) -> dict[str, Any]:
    """``statement`` signed by this node as its origin."""
    sealed = {
        **statement,
        ORIGIN: str(net.node),
        SEALED_AT: now.isoformat(),
        MESSAGE_ID: statement.get(MESSAGE_ID) or uuid.uuid4().hex,
    }
    signature = net.signing_key.sign(canonical_json(sealed))
    return sealed | {ORIGIN_SIGNATURE: base64.b64encode(signature).decode("ascii")}


def verify_sealed(
    sealed: Any, *, net: NetworkContext, now: datetime
) -> tuple[NodeId, dict[str, Any]]:
    """The signer and the statement (without the seal's own items) of a sealed statement.

    Raises :class:`Rejected` when the seal is missing, malformed or not the named origin's.
    """
    if not is_sealed(sealed):
        raise Rejected("no origin signature")
    unsigned = {k: v for k, v in sealed.items() if k != ORIGIN_SIGNATURE}
    try:
        origin = NodeId.parse(str(unsigned[ORIGIN]))
        signature = base64.b64decode(str(sealed[ORIGIN_SIGNATURE]), validate=True)
        str(unsigned[MESSAGE_ID])
    except (KeyError, ValueError, ValidationError) as error:
        raise Rejected("malformed origin seal") from error
    key = net.peer_key(str(origin), now=now)
    try:
        key.verify(signature, canonical_json(unsigned))
    except InvalidSignature as error:
        raise Rejected(f"the origin signature is not {origin}'s") from error
    statement = {k: v for k, v in unsigned.items() if k not in (ORIGIN, SEALED_AT)}
    return origin, statement


def seal_identity(
    kind: str, body: dict[str, Any], *, net: NetworkContext, now: datetime
) -> dict[str, Any]:
    """An identity or card status message's body sealed here for envelopes of ``kind``."""
    return seal(body | {SEALED_KIND: kind}, net=net, now=now)


def open_identity(
    kind: str, body: dict[str, Any], *, net: NetworkContext, now: datetime
) -> tuple[NodeId, dict[str, Any]]:
    """The originating municipality and the body as it made it, of a sealed identity message.

    Raises :class:`Rejected` when the seal is missing, broken (the body was altered after the
    municipality signed it), made by a node that is not a municipality, or made for another
    kind of message. Whether that municipality may speak for what the body says is the
    identity store's check.
    """
    origin, statement = verify_sealed(body, net=net, now=now)
    if origin.role is not NodeRole.MUNICIPALITY:
        raise Rejected(f"{origin} is not a municipality; only a municipality originates one")
    if statement.get(SEALED_KIND) != kind:
        raise Rejected("sealed for another kind of message")
    return origin, {k: v for k, v in statement.items() if k not in (MESSAGE_ID, SEALED_KIND)}


def seal_outgoing(
    kind: str, body: dict[str, Any], *, net: NetworkContext, now: datetime
) -> dict[str, Any]:
    """The body to send: statements this node made are sealed, relayed ones left as they are.

    Services queue statements unsealed (they hold no keys); the network seals them when they
    are first put on a link. A relayed statement is already sealed — the inbox refuses to relay
    one that is not — so nothing is ever sealed twice or on someone else's behalf.
    """
    if kind == MessageKind.ROUTED.value and not is_sealed(body):
        return seal(body, net=net, now=now)
    if kind in ORIGIN_SEALED_KINDS and not is_sealed(body):
        # An incident notice or the centre's order: sealed by the node that made it; relays
        # (a prefecture passing it on) forward it as received.
        return seal(body, net=net, now=now)
    handover = body.get(HANDOVER_KEY) if kind == MessageKind.IDENTITY_NOTICE.value else None
    if isinstance(handover, dict) and not is_sealed(handover):
        body = body | {HANDOVER_KEY: seal(handover, net=net, now=now)}
    if kind in SEALED_KINDS and net.node.role is NodeRole.MUNICIPALITY and not is_sealed(body):
        # Only the municipality that made it seals it; tiers forward it exactly as received.
        return seal_identity(kind, body, net=net, now=now)
    return body
