"""Asking another municipality through the tiers, and answering or relaying such a request.

The generic use case over :mod:`jukinet.network.relay`. Three roles, one module:

- **origin** (:func:`ask_municipality`): a municipality seals a request for another one and
  hands it to its prefecture; it gets back the destination's verified answer, or
  :class:`RelayFailed` saying why not (this town or the other is not on the network, a node
  could not be reached, a node refused, an answer failed its checks) in ja and en.
- **relay** (prefecture, centre; :func:`answer_relay`): checks the hop and the origin's seal,
  records the access in its access log (affair of the purpose, e.g. 「広域交付」), passes the
  request on and the answer back after checking the destination's signature. Stores nothing
  else (domain.md §1).
- **destination** (:func:`answer_relay` at the addressed municipality): runs the purpose's
  answering function from the purpose table and signs what it returns. The answering function
  reads the register through its own gateway and logs that read in the same transaction.

A purpose is registered in :func:`jukinet.services.relay_purposes.relay_purposes` (a table the
network endpoint builds, not import-time registration)::

    RelayPurpose(name="wide_area_copy", affair="広域交付", answer=answer_wide_area)

where ``answer(node, request) -> dict`` returns the JSON answer (a refusal of the request on
its merits is an answer too, e.g. ``{"refused": {...}}``: the purpose decides its shape).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import httpx

from jukinet.data.catalog import get_municipality
from jukinet.domain.access_log import AccessEntry, Action, ActorKind, Channel
from jukinet.domain.errors import Conflict, DomainError
from jukinet.domain.network import NodeId, next_hop
from jukinet.network.context import NetworkContext, Rejected
from jukinet.network.inbox import record_rejection
from jukinet.network.relay import (
    RelayOutcome,
    RelayRequest,
    answer_document,
    failure_document,
    hop_document,
    make_request,
    open_hop,
    post_hop,
    read_reply,
)
from jukinet.services.context import ServiceContext
from jukinet.storage import access_log

#: Items a relay's access-log entry names: the request passed through, not read.
RELAYED_ITEMS: Final = ("relayed_request",)


@dataclass(frozen=True, slots=True)
class RelayPurpose:
    """One kind of municipality-to-municipality request: its name, affair and answer."""

    name: str
    #: The affair recorded in every node's access log (e.g. 「広域交付」).
    affair: str
    #: At the destination: ``answer(node, request)`` → the JSON answer to sign.
    answer: Callable[[ServiceContext, RelayRequest], dict[str, Any]]


class RelayFailed(Conflict):
    """The other municipality could not be asked, or gave no answer to trust.

    A conflict with the network's state (409, like a card status that cannot be checked now):
    the counter's request was sound, and nothing was done.
    """

    def __init__(self, code: str, *, ja: str, en: str, failure: str, signer: str) -> None:
        super().__init__(code, ja=ja, en=en)
        #: One of :data:`jukinet.network.relay.FAILURE_CODES`, or ``not_connected`` (this town).
        self.failure = failure
        #: The node that said so (this node when it found out itself).
        self.signer = signer


_FAILURES: Final = {
    "not_connected": (
        "JUKI-RELAY-001",
        "この市区町村は住基ネットに接続していないため、他の市区町村に照会できません。",
        "This municipality is not connected to the network, so it cannot ask another one.",
    ),
    "unreachable": (
        "JUKI-RELAY-002",
        "住所地の市区町村に照会できませんでした。中継先に接続できません（{who} の報告: {why}）。",
        "The home municipality could not be asked: a node on the way could not be reached "
        "({who} reports: {why}).",
    ),
    "not_participating": (
        "JUKI-RELAY-003",
        "住所地の市区町村（{who}）は住基ネットに参加していない（切断中または未接続）ため、"
        "照会に応じられません。",
        "The home municipality ({who}) does not take part in the network (disconnected or "
        "never connected) and cannot answer.",
    ),
    "refused": (
        "JUKI-RELAY-004",
        "{who} が照会を拒否しました（{why}）。",
        "{who} refused the request ({why}).",
    ),
    "untrusted": (
        "JUKI-RELAY-005",
        "応答の署名を検証できませんでした（{who}: {why}）。何も印刷しません。",
        "The answer could not be verified ({who}: {why}); nothing is printed.",
    ),
}


def relay_failed(failure: str, *, who: str, why: str = "") -> RelayFailed:
    """The :class:`RelayFailed` for ``failure`` (a failure code), naming the node and reason."""
    code, ja, en = _FAILURES[failure]
    why = why[:160] or "-"
    named = _named(who)
    return RelayFailed(
        code,
        ja=ja.format(who=named, why=why),
        en=en.format(who=named, why=why),
        failure=failure,
        signer=who,
    )


def _named(node: str) -> str:
    """A municipality's node with its name (西東京市 municipality:132292), others as they are."""
    role, _, code = node.partition(":")
    if role != "municipality":
        return node
    try:
        return f"{get_municipality(code).name} {node}"
    except DomainError:
        return node


def relay_entry(
    node: ServiceContext,
    request: RelayRequest,
    *,
    affair: str,
    action: Action,
    items: tuple[str, ...],
    subject: str | None = None,
    actor: str | None = None,
    actor_kind: ActorKind = ActorKind.NODE,
    channel: Channel = Channel.NETWORK,
    reason: str | None = None,
    terminal: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> AccessEntry:
    """The access-log entry of one relayed request at this node (same shape at every node)."""
    return AccessEntry(
        recorded_at=node.now(),
        node=str(node.node_id),
        action=action,
        channel=channel,
        actor_kind=actor_kind,
        actor=(actor or str(request.origin))[:80],
        subject=subject,
        affair_code=affair,
        reason=(reason or f"relay:{request.purpose} {request.origin}→{request.destination}")[:200],
        items=items,
        terminal=terminal,
        detail={"message_id": request.message_id, **(detail or {})},
    )


def _log(node: ServiceContext, entries: list[AccessEntry]) -> None:
    with node.session_factory() as session, session.begin():
        access_log.record(session, entries)


# --- origin ---------------------------------------------------------------------------------


def ask_municipality(
    node: ServiceContext,
    *,
    destination: str,
    purpose: str,
    body: dict[str, Any],
    http: httpx.Client | None = None,
) -> tuple[RelayRequest, dict[str, Any]]:
    """Ask municipality ``destination`` (its code) through the tiers; the verified answer.

    Raises :class:`RelayFailed` (JUKI-RELAY-001…005) when there is no answer to trust. The
    caller records its own access (it knows the operator and what was shown).
    """
    net = node.network
    if net is None or not node.connected:
        raise relay_failed("not_connected", who=str(node.node_id))
    target = NodeId.parse(f"municipality:{destination}")
    request = make_request(net, destination=target, purpose=purpose, body=body, now=node.now())
    outcome, _signed = _forward(node, net, request, http=http)
    if outcome.answer is None:
        raise relay_failed(
            outcome.failure_code or "refused",
            who=outcome.signer,
            why=outcome.failure_reason or "",
        )
    return request, outcome.answer


def _forward(
    node: ServiceContext, net: NetworkContext, request: RelayRequest, *, http: httpx.Client | None
) -> tuple[RelayOutcome, dict[str, Any] | None]:
    """Hand ``request`` to the next node: its verified reply and the reply as signed, or this
    node's own finding (and ``None``) when there is no reply to trust."""
    here = str(net.node)
    following = str(next_hop(net.node, request.destination))
    url = net.peers.get(following)
    if url is None:
        return RelayOutcome(None, here, "unreachable", f"{following} is not a neighbour"), None
    try:
        status, reply = post_hop(net, url, hop_document(request, net=net), http=http)
    except (httpx.HTTPError, OSError) as error:
        return RelayOutcome(None, here, "unreachable", f"{following}: {type(error).__name__}"), None
    if status != 200:
        why = str(reply.get("error", "")) if isinstance(reply, dict) else ""
        return RelayOutcome(None, here, "refused", f"{following} HTTP {status}: {why}"[:200]), None
    try:
        return read_reply(reply, request, net=net, node=node), reply
    except Rejected as error:
        return RelayOutcome(None, here, "untrusted", f"{following}: {error.reason}"), None


# --- relay and destination -----------------------------------------------------------------


def answer_relay(
    node: ServiceContext,
    net: NetworkContext,
    *,
    tls_peer_der: bytes | None,
    payload: Any,
    purposes: Mapping[str, RelayPurpose],
) -> dict[str, Any]:
    """Answer ``POST /network/v1/relay``: pass the request on, or answer it here.

    Raises :class:`Rejected` (recorded) for a hop or origin that does not check out, or an
    unknown purpose; anything after that is a signed reply (answer or failure).
    """
    tls_peer: str | None = None
    try:
        tls_peer = net.peer_of_tls_certificate(tls_peer_der, now=node.now())
        request = open_hop(payload, tls_peer=tls_peer, net=net, node=node)
        purpose = purposes.get(request.purpose)
        if purpose is None:
            raise Rejected(f"unknown relay purpose {request.purpose!r}")
    except Rejected as rejection:
        record_rejection(
            node,
            reason=f"relay: {rejection.reason}",
            claimed_sender=tls_peer,
            tls_peer=tls_peer,
            envelope_id=None,
        )
        raise
    if request.destination == net.node:
        if not node.connected:
            _log(
                node,
                [
                    relay_entry(
                        node,
                        request,
                        affair=purpose.affair,
                        action=Action.REFUSED,
                        items=(),
                        reason=f"relay:{request.purpose} not participating",
                    )
                ],
            )
            return failure_document(
                request, code="not_participating", reason=node.participation, net=net
            )
        return answer_document(request, purpose.answer(node, request), net=net)
    _log(
        node,
        [
            relay_entry(
                node, request, affair=purpose.affair, action=Action.READ, items=RELAYED_ITEMS
            )
        ],
    )
    outcome, signed = _forward(node, net, request, http=None)
    if signed is not None:
        # An answer or a failure signed further on goes back untouched: the origin checks it.
        return signed
    return failure_document(
        request,
        code=outcome.failure_code or "refused",
        reason=outcome.failure_reason or "",
        net=net,
    )
