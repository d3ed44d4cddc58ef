"""Answering reconciliation questions at a prefecture or the centre.

Only neighbours talk: a prefecture answers its own municipalities about their own records, and
asks the centre about the same municipality over its own mutual-TLS link while it computes its
part; the centre answers prefectures about their municipalities. The caller is the node its TLS
client certificate names, checked as the inbox does; a caller or question that is refused is
kept on record. Answers are signed documents naming the question (kind, asker, municipality,
nonce), so they cannot be replayed for another. The HTTP adapter is
:mod:`jukinet.web.network_reconcile`.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from jukinet.domain.errors import ValidationError
from jukinet.domain.municipality import validate_municipality_code
from jukinet.domain.network import NodeId, NodeRole
from jukinet.domain.reconcile import (
    BUCKET_RE,
    BUCKETS_KIND,
    MAX_BUCKETS,
    NONCE_RE,
    RECORDS_KIND,
    bucket_digests,
)
from jukinet.network.context import NetworkContext, Rejected
from jukinet.network.inbox import record_rejection, sign_document
from jukinet.network.reconcile_client import BUCKETS_PATH, RECORDS_PATH, ask_national
from jukinet.services.context import ServiceContext
from jukinet.services.reconcile.upstream import held_hashes


def _authorise(net: NetworkContext, caller_name: str) -> NodeId:
    """The calling node, if it may ask this node at all."""
    try:
        caller = NodeId.parse(caller_name)
    except ValidationError as error:
        raise Rejected("unknown caller") from error
    here = net.node
    if here.role is NodeRole.PREFECTURE:
        if caller.role is not NodeRole.MUNICIPALITY or caller.code[:2] != here.code:
            raise Rejected("only this prefecture's municipalities may reconcile here")
    elif here.role is NodeRole.NATIONAL:
        if caller.role is not NodeRole.PREFECTURE:
            raise Rejected("only prefectures may reconcile with the national centre")
    else:
        raise Rejected("this node holds no identity records to reconcile", status=404)
    return caller


@dataclass(frozen=True, slots=True)
class _Query:
    municipality_code: str
    nonce: str
    buckets: list[str] | None
    national_buckets: list[str] | None


def _bucket_list(value: Any, name: str) -> list[str]:
    if (
        not isinstance(value, list)
        or len(value) > MAX_BUCKETS
        or not all(isinstance(b, str) and BUCKET_RE.match(b) for b in value)
    ):
        raise Rejected(
            f"{name}: expected a list of up to {MAX_BUCKETS} 3-digit buckets", status=400
        )
    return sorted(set(value))


def _parse_query(payload: Any, *, caller: NodeId, here: NodeId, with_buckets: bool) -> _Query:
    if not isinstance(payload, dict):
        raise Rejected("expected a JSON object", status=400)
    try:
        municipality_code = validate_municipality_code(str(payload.get("municipality_code", "")))
    except ValidationError as error:
        raise Rejected("municipality_code: not a valid municipality code", status=400) from error
    nonce = payload.get("nonce", "")
    if not isinstance(nonce, str) or not NONCE_RE.match(nonce):
        raise Rejected("nonce: up to 64 letters, digits, '-' or '_'", status=400)
    if here.role is NodeRole.PREFECTURE and municipality_code != caller.code:
        raise Rejected("a municipality may only reconcile its own records")
    if here.role is NodeRole.NATIONAL and municipality_code[:2] != caller.code:
        raise Rejected("the municipality does not belong to the calling prefecture")
    buckets: list[str] | None = None
    national_buckets: list[str] | None = None
    if with_buckets:
        buckets = _bucket_list(payload.get("buckets"), "buckets")
        if here.role is NodeRole.PREFECTURE and "national_buckets" in payload:
            national_buckets = _bucket_list(payload["national_buckets"], "national_buckets")
    return _Query(municipality_code, nonce, buckets, national_buckets)


def _answer(
    node: ServiceContext,
    net: NetworkContext,
    *,
    tls_peer_der: bytes | None,
    payload: Any,
    with_buckets: bool,
) -> dict[str, Any]:
    tls_peer: str | None = None
    try:
        # The caller is the node its TLS client certificate names, checked as the inbox does.
        tls_peer = net.peer_of_tls_certificate(tls_peer_der, now=node.now())
        caller = _authorise(net, tls_peer)
        query = _parse_query(payload, caller=caller, here=net.node, with_buckets=with_buckets)
    except Rejected as rejection:
        record_rejection(
            node,
            reason=f"reconciliation: {rejection.reason}",
            claimed_sender=tls_peer,
            tls_peer=tls_peer,
            envelope_id=None,
        )
        raise
    is_prefecture = net.node.role is NodeRole.PREFECTURE
    with ThreadPoolExecutor(max_workers=1) as pool:
        # A prefecture's centre works on its part while this node works on its own.
        ask = _national_question(query, with_buckets=with_buckets) if is_prefecture else None
        national = pool.submit(ask_national, node, net, *ask) if ask else None
        with node.session_factory() as session:
            held = held_hashes(session, query.municipality_code, buckets=query.buckets)
        document: dict[str, Any] = {
            "kind": RECORDS_KIND if with_buckets else BUCKETS_KIND,
            "node": str(net.node),
            "requested_by": str(caller),
            "municipality_code": query.municipality_code,
            "nonce": query.nonce,
            "answered_at": node.now().isoformat(),
        }
        if with_buckets:
            document["buckets"] = query.buckets
            document["records"] = held
        else:
            document["count"] = len(held)
            document["buckets"] = bucket_digests(held)
        if is_prefecture:
            signed, error = national.result() if national is not None else (None, None)
            document["national"] = signed
            document["national_error"] = error
    return sign_document(document, net)


def _national_question(query: _Query, *, with_buckets: bool) -> tuple[str, dict[str, Any]] | None:
    """What a prefecture asks the centre about the same municipality (``None``: nothing)."""
    body: dict[str, Any] = {"municipality_code": query.municipality_code, "nonce": query.nonce}
    if not with_buckets:
        return BUCKETS_PATH, body
    wanted = query.buckets if query.national_buckets is None else query.national_buckets
    return (RECORDS_PATH, body | {"buckets": wanted}) if wanted else None


def answer_buckets(
    node: ServiceContext, net: NetworkContext, *, tls_peer_der: bytes | None, payload: Any
) -> dict[str, Any]:
    """Answer ``POST /network/v1/reconcile/buckets``: signed bucket digests for one municipality.

    A prefecture includes the centre's signed answer as ``national`` (or the reason it has none
    as ``national_error``). Raises :class:`Rejected` (recorded) for a caller that may not ask.
    """
    return _answer(node, net, tls_peer_der=tls_peer_der, payload=payload, with_buckets=False)


def answer_records(
    node: ServiceContext, net: NetworkContext, *, tls_peer_der: bytes | None, payload: Any
) -> dict[str, Any]:
    """Answer ``POST /network/v1/reconcile/records``: signed code → hash for the asked buckets.

    A prefecture asks the centre for ``national_buckets`` (default: the same buckets).
    """
    return _answer(node, net, tls_peer_der=tls_peer_der, payload=payload, with_buckets=True)
