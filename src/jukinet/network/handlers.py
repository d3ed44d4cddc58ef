"""The table of message handlers the inbox dispatches to (built by the composition root).

The network layer checks, orders, stores and relays envelopes; what a message *means* is a use
case in ``jukinet.services``. The composition root puts those use cases in a
:class:`HandlerTable` and passes it to the inbox, so nothing registers itself at import time
and the network never imports a use case.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy.orm import Session

from jukinet.domain.messages import MessageKind
from jukinet.domain.network import NodeId
from jukinet.network.envelope import Envelope

APPLIED: Final = "applied"
QUARANTINED: Final = "quarantined"
#: Not authorised (a node speaking for what it does not hold): never applied, kept as evidence,
#: and — unlike a quarantined fault — it holds back nobody's later messages, so a hostile node
#: cannot freeze another municipality's residents by sending bad notices about them.
REFUSED: Final = "refused"
HELD: Final = "held"
FORWARDED: Final = "forwarded"
DISCARDED: Final = "discarded"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one received message."""

    status: str
    reason: str | None = None
    #: Whether the message should travel on to this node's parent.
    forward: bool = False


@dataclass(frozen=True, slots=True)
class Delivery:
    """One accepted message handed to its handler, inside the inbox's transaction."""

    session: Session
    #: The envelope as received (its sender is the neighbour that handed it over).
    envelope: Envelope
    #: The message's kind: the envelope's, or for a routed message its payload's.
    kind: MessageKind
    #: What the handler acts on: the envelope's body, or for a routed message its payload.
    body: dict[str, Any]
    #: The municipality that signed a routed or identity message (its seal checked by the
    #: inbox; an identity message's ``body`` is then the statement without the seal).
    origin: NodeId | None = None


#: A use case applying one delivery; it writes through ``delivery.session`` and never commits.
Handler = Callable[[Delivery], Outcome]


@dataclass(frozen=True)
class HandlerTable:
    """Which use case handles which kind of message at this node."""

    #: Envelope kinds this node accepts from neighbours (identity messages at upper tiers).
    direct: Mapping[MessageKind, Handler] = field(default_factory=dict)
    #: Routed payload kinds this node accepts when it is the destination (municipalities).
    routed: Mapping[MessageKind, Handler] = field(default_factory=dict)
    #: Called once per request with the residents it names, before any handler runs (a
    #: handler may load their records in one query instead of one per message).
    prepare: Callable[[Session, set[str]], None] | None = None


def subject_of(body: Any) -> str | None:
    """The resident a message is about, if it names one (identity bodies name one)."""
    if not isinstance(body, dict):
        return None
    identity = body.get("identity")
    if isinstance(identity, dict) and isinstance(identity.get("resident_code"), str):
        return str(identity["resident_code"])[:40]
    code = body.get("resident_code")
    return str(code)[:40] if isinstance(code, str) else None
