"""Relayed municipality-to-municipality requests: signed, routed through the tiers, answered.

A municipality (the *origin*) asks another (the *destination*) something synchronously — a
wide-area copy (広域交付), the move-out data of a card move (転入転出の特例). The request goes
up and down the tiers over mutual TLS, hop by hop along :func:`route` (from the topology's
``next_hop``): M1 → P1 → centre → P2 → M2, or M1 → P → M2 when both towns share a prefecture
(the prefecture routes down directly, the centre is not asked).

Wire format (every piece canonical JSON, Ed25519):

- the **request** is a statement sealed by the origin (:func:`jukinet.network.origin.seal`):
  ``kind``, ``purpose``, ``destination``, ``body`` plus ``origin``, ``sealed_at``,
  ``message_id`` and ``origin_signature``. The origin is whoever signed it, never a field a
  relay could rewrite.
- each hop POSTs to the next a **hop document** it signs itself: ``{"kind": "relay_hop",
  "node": <this hop>, "to": <next>, "request": <sealed request>}``. The receiver checks that
  the TLS client certificate, the hop's signer and the node before it on the route are one and
  the same, and that the origin's seal is intact, before doing anything.
- the destination answers with an **answer document** it signs: ``kind: relay_answer``,
  ``node``, ``origin``, ``purpose``, ``message_id``, ``request_digest`` (SHA-256 of the sealed
  request's canonical bytes) and ``answer``. Relays pass it back untouched (after checking
  it), so the origin verifies the destination's own signature: a relay cannot alter it.
- a node on the route that cannot go on signs a **failure document** (``kind: relay_failure``,
  ``code`` one of :data:`FAILURE_CODES`, ``reason``) with the same binding items.

Nothing here stores the request or the answer (domain.md §1): what each node records — the
access, with the purpose's affair — is the use case's business (:mod:`jukinet.services.relay`).
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import httpx

from jukinet.domain.errors import ValidationError
from jukinet.domain.network import NodeId, NodeRole, next_hop
from jukinet.network.context import NetworkContext, Rejected
from jukinet.network.envelope import canonical_json
from jukinet.network.inbox import sign_document, verify_document
from jukinet.network.node import NetworkNode
from jukinet.network.origin import MESSAGE_ID, SEALED_AT, seal, verify_sealed

RELAY_PATH: Final = "/network/v1/relay"
REQUEST_KIND: Final = "relay_request"
HOP_KIND: Final = "relay_hop"
ANSWER_KIND: Final = "relay_answer"
FAILURE_KIND: Final = "relay_failure"
#: Why a relay stopped: the next node could not be reached; the destination does not take part
#: in the network (disconnected or never connected); a node refused the request (bad
#: signature, wrong route, unknown purpose); the destination's answer failed its checks.
FAILURE_CODES: Final = frozenset({"unreachable", "not_participating", "refused", "untrusted"})
#: A purpose is a short lower-case name (``wide_area_copy``, ``card_move``).
_PURPOSE_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
#: Seconds a hop waits for the next (the whole route is at most four hops).
HOP_TIMEOUT_SECONDS: Final = 30.0
#: How old (or how far ahead of this node's clock) a sealed request may be at any hop: a relay
#: cannot replay a request it saw to learn the resident's data again later.
MAX_REQUEST_AGE: Final = timedelta(minutes=5)
#: Idle seconds a kept connection to a neighbour lives: below the server's keep-alive (5 s),
#: so a connection is never reused just as the neighbour closes it.
KEEPALIVE_SECONDS: Final = 2.0


@dataclass(frozen=True, slots=True)
class RelayRequest:
    """A verified request: who made it (its signer), for whom, why, and what it asks."""

    origin: NodeId
    destination: NodeId
    purpose: str
    message_id: str
    body: dict[str, Any]
    #: The request exactly as the origin sealed it (what each hop passes on).
    sealed: dict[str, Any]

    @property
    def digest(self) -> str:
        """SHA-256 (hex) of the sealed request's canonical bytes: what an answer is bound to."""
        return hashlib.sha256(canonical_json(self.sealed)).hexdigest()


@dataclass(frozen=True, slots=True)
class RelayOutcome:
    """What came back to the origin, verified: an answer, or why there is none."""

    #: ``None`` when the relay failed.
    answer: dict[str, Any] | None
    #: The node that signed the answer or the failure.
    signer: str
    failure_code: str | None = None
    failure_reason: str | None = None


def route(origin: NodeId, destination: NodeId) -> list[NodeId]:
    """Every node from ``origin`` to ``destination`` inclusive, following the topology."""
    path = [origin]
    while path[-1] != destination:
        path.append(next_hop(path[-1], destination))
        if len(path) > 6:  # pragma: no cover - the topology has three tiers
            raise ValueError("no route")
    return path


def validate_purpose(purpose: str) -> str:
    """A purpose name: 1–40 lower-case letters, digits or underscores."""
    if not (0 < len(purpose) <= 40 and set(purpose) <= _PURPOSE_CHARS):
        raise ValueError("malformed relay purpose")
    return purpose


def make_request(
    net: NetworkContext,
    *,
    destination: NodeId,
    purpose: str,
    body: dict[str, Any],
    now: datetime,
) -> RelayRequest:
    """A request sealed by this municipality for ``destination`` (another municipality)."""
    if net.node.role is not NodeRole.MUNICIPALITY or destination.role is not NodeRole.MUNICIPALITY:
        raise ValueError("relayed requests go from one municipality to another")
    if destination == net.node:
        raise ValueError("a municipality does not relay to itself")
    statement = {
        "kind": REQUEST_KIND,
        "purpose": validate_purpose(purpose),
        "destination": str(destination),
        "body": body,
    }
    sealed = seal(statement, net=net, now=now)
    return RelayRequest(net.node, destination, purpose, str(sealed[MESSAGE_ID]), body, sealed)


def open_request(sealed: Any, *, net: NetworkContext, now: datetime) -> RelayRequest:
    """The request of a sealed statement, its origin being its signer; :class:`Rejected` if not."""
    origin, statement = verify_sealed(sealed, net=net, now=now)
    try:
        sealed_at = datetime.fromisoformat(str(sealed[SEALED_AT]))
        if sealed_at.tzinfo is None or abs(now - sealed_at) > MAX_REQUEST_AGE:
            raise Rejected("the request is stale or from the future (a replay?)")
        destination = NodeId.parse(str(statement["destination"]))
        purpose = validate_purpose(str(statement["purpose"]))
        body = statement["body"]
        kind = statement["kind"]
    except (KeyError, ValueError, ValidationError) as error:
        raise Rejected("malformed relay request", status=400) from error
    if kind != REQUEST_KIND or not isinstance(body, dict):
        raise Rejected("malformed relay request", status=400)
    if origin.role is not NodeRole.MUNICIPALITY or destination.role is not NodeRole.MUNICIPALITY:
        raise Rejected("relayed requests go from one municipality to another")
    if origin == destination:
        raise Rejected("a municipality does not relay to itself", status=400)
    return RelayRequest(origin, destination, purpose, str(statement[MESSAGE_ID]), body, sealed)


def hop_document(request: RelayRequest, *, net: NetworkContext) -> dict[str, Any]:
    """The signed hand-over of ``request`` from this node to the next on its route."""
    to = next_hop(net.node, request.destination)
    return sign_document(
        {"kind": HOP_KIND, "node": str(net.node), "to": str(to), "request": request.sealed}, net
    )


def open_hop(
    payload: Any, *, tls_peer: str, net: NetworkContext, node: NetworkNode
) -> RelayRequest:
    """The request a neighbour handed over, checked hop and origin; :class:`Rejected` if not.

    The TLS client, the hop document's signer and the node before this one on the request's
    route must be the same node, and the hop must be addressed to this node.
    """
    if not isinstance(payload, dict):
        raise Rejected("expected a signed hop document", status=400)
    document = verify_document(payload, signer=tls_peer, net=net, node=node)
    if document.get("kind") != HOP_KIND or document.get("node") != tls_peer:
        raise Rejected("not a relay hop of the calling node")
    if document.get("to") != str(net.node):
        raise Rejected("the hop is addressed to another node")
    request = open_request(document.get("request"), net=net, now=node.now())
    path = route(request.origin, request.destination)
    if net.node not in path[1:]:
        raise Rejected("this node is not on the request's route")
    previous = path[path.index(net.node) - 1]
    if str(previous) != tls_peer:
        raise Rejected("the request did not come from the node before this one on its route")
    return request


def _binding(request: RelayRequest, net: NetworkContext) -> dict[str, Any]:
    return {
        "node": str(net.node),
        "origin": str(request.origin),
        "purpose": request.purpose,
        "message_id": request.message_id,
        "request_digest": request.digest,
    }


def answer_document(
    request: RelayRequest, answer: dict[str, Any], *, net: NetworkContext
) -> dict[str, Any]:
    """The destination's signed answer to ``request``."""
    return sign_document({"kind": ANSWER_KIND, **_binding(request, net), "answer": answer}, net)


def failure_document(
    request: RelayRequest, *, code: str, reason: str, net: NetworkContext
) -> dict[str, Any]:
    """This node's signed word that ``request`` went no further (``code`` in FAILURE_CODES)."""
    if code not in FAILURE_CODES:
        raise ValueError(f"unknown relay failure code {code!r}")
    document = {"kind": FAILURE_KIND, **_binding(request, net), "code": code}
    return sign_document(document | {"reason": reason[:200]}, net)


_clients: dict[int, httpx.Client] = {}
_clients_lock = threading.Lock()


def _drop_client(key: int) -> None:
    with _clients_lock:
        client = _clients.pop(key, None)
    if client is not None:
        client.close()


def close_hop_clients() -> None:
    """Close every kept hop client (before a node's servers stop: nothing waits on them)."""
    with _clients_lock:
        clients = list(_clients.values())
        _clients.clear()
    for client in clients:
        client.close()


def hop_client(net: NetworkContext) -> httpx.Client:
    """This node's kept mutual-TLS client for relay hops (one per network context).

    Its TLS context is one of the node's own, so a newly published CRL reaches it; it is
    dropped when a request through it fails, and closed with the context.
    """
    key = id(net)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = httpx.Client(
                verify=net.client_ssl_context(),
                timeout=HOP_TIMEOUT_SECONDS,
                limits=httpx.Limits(keepalive_expiry=KEEPALIVE_SECONDS),
            )
            _clients[key] = client
            weakref.finalize(net, _drop_client, key)
        return client


def post_hop(
    net: NetworkContext, url: str, signed_hop: dict[str, Any], *, http: httpx.Client | None = None
) -> tuple[int, Any]:
    """POST a hop document to the next node; its HTTP status and JSON (or ``None``).

    Uses ``http`` when given, else this node's kept hop client. Transport faults propagate as
    ``httpx.HTTPError`` / ``OSError`` for the caller to turn into an ``unreachable`` failure.
    """
    target = url.rstrip("/") + RELAY_PATH
    if http is not None:
        response = http.post(target, json=signed_hop)
    else:
        try:
            response = hop_client(net).post(target, json=signed_hop)
        except (httpx.HTTPError, OSError):
            _drop_client(id(net))
            raise
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, None


def read_reply(
    signed: Any, request: RelayRequest, *, net: NetworkContext, node: NetworkNode
) -> RelayOutcome:
    """A reply checked: an answer signed by the destination, or a failure signed by a node on
    the route after this one, both bound to exactly this request. :class:`Rejected` if not."""
    if not isinstance(signed, dict) or not isinstance(signed.get("document"), dict):
        raise Rejected("no signed relay reply")
    claimed = str(signed["document"].get("node", ""))
    path = [str(n) for n in route(request.origin, request.destination)]
    here = path.index(str(net.node)) if str(net.node) in path else -1
    if claimed not in path[here + 1 :]:
        raise Rejected("the reply is signed by a node that is not further on the route")
    document = verify_document(signed, signer=claimed, net=net, node=node)
    expected = {
        "origin": str(request.origin),
        "purpose": request.purpose,
        "message_id": request.message_id,
        "request_digest": request.digest,
    }
    if any(document.get(k) != v for k, v in expected.items()):
        raise Rejected("the reply is not for this request")
    kind = document.get("kind")
    if kind == ANSWER_KIND and claimed == str(request.destination):
        answer = document.get("answer")
        if not isinstance(answer, dict):
            raise Rejected("malformed relay answer")
        return RelayOutcome(answer, claimed)
    if kind == FAILURE_KIND and document.get("code") in FAILURE_CODES:
        return RelayOutcome(
            None, claimed, str(document["code"]), str(document.get("reason", ""))[:200]
        )
    raise Rejected("malformed relay reply")
