"""Blocks of resident codes allotted by the national centre over the network (domain.md §3).

A municipality on the network draws new codes only from blocks the centre allotted it. When its
pool runs low it asks its prefecture for a block with a request **it signs itself**
(municipality code, count, nonce); the prefecture checks that the request comes from the
municipality that signed it and passes it on; the centre checks the signature again — the
origin is the signer, whatever the hop — draws random codes that no block and no held record
has used, keeps them as ``allotted`` to that municipality (a code is a primary key there, so
two blocks can never share one) and answers with a signed block, which the prefecture relays
unchanged. The municipality checks the centre's signature and adds the codes to its pool.
"""

from __future__ import annotations

import random
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select

from jukinet.domain.codes import random_resident_codes, validate_resident_code
from jukinet.domain.errors import Conflict, DomainError, ValidationError
from jukinet.domain.network import NATIONAL, NodeId, NodeRole, municipality
from jukinet.domain.operators import Actor, Permission
from jukinet.domain.reconcile import NONCE_RE, ReconcileFailed, unreachable, untrusted
from jukinet.network.context import NetworkContext, Rejected
from jukinet.network.inbox import record_rejection, sign_document, verify_document
from jukinet.network.reconcile_client import ask_national, open_client, post_question
from jukinet.services.context import ServiceContext
from jukinet.storage import bulk, identity_records
from jukinet.storage.participation_tables import CodeBlockRow
from jukinet.storage.repositories import CODE_AVAILABLE
from jukinet.storage.tables import ResidentCodeRow, table_of

CODE_BLOCK_PATH: Final = "/network/v1/codes/block"
REQUEST_KIND: Final = "code_block_request"
BLOCK_KIND: Final = "code_block"
#: The largest block one request may ask for.
MAX_BLOCK: Final = 100_000
#: A code allotted to a municipality, as the centre keeps it.
CODE_ALLOTTED: Final = "allotted"
_CHUNK: Final = 10_000
_codes = table_of(ResidentCodeRow)


@dataclass(frozen=True, slots=True)
class ReceivedBlock:
    """A block the centre allotted and this municipality added to its pool."""

    block_id: str
    size: int
    pool_size: int


def _check_count(count: object) -> int:
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_BLOCK:
        raise ValidationError(
            "JUKI-CODE-020",
            ja=f"割当ての数は1以上{MAX_BLOCK}以下にしてください。",
            en=f"A block is 1 to {MAX_BLOCK} codes.",
            field="count",
        )
    return count


# --- at the municipality --------------------------------------------------------------------


def request_code_block(
    node: ServiceContext, *, actor: Actor, count: int, http: Any = None
) -> ReceivedBlock:
    """Ask the centre (through the prefecture) for a block of ``count`` codes; add it to the
    pool. Raises :class:`Conflict` when the network cannot answer (nothing is written)."""
    actor.require(Permission.ADMINISTER_SYSTEM)
    return fetch_block(node, count=count, http=http)


def fetch_block(node: ServiceContext, *, count: int, http: Any = None) -> ReceivedBlock:
    """:func:`request_code_block` without an operator (the pool keeper's own request)."""
    _check_count(count)
    net = node.network
    if node.settings.role != "municipality" or net is None or not node.connected:
        raise Conflict(
            "JUKI-CODE-021",
            ja="住基ネットに接続した市区町村だけが全国センターに割当てを依頼できます。",
            en="Only a municipality connected to the network asks the centre for codes.",
            field="count",
        )
    nonce = secrets.token_hex(16)
    request = sign_document(
        {
            "kind": REQUEST_KIND,
            "municipality_code": node.municipality_code,
            "count": count,
            "nonce": nonce,
            "requested_at": node.now().isoformat(),
        },
        net,
    )
    prefecture = node.upstream
    try:
        url = net.peers.get(prefecture)
        if url is None:
            raise unreachable(prefecture, "the prefecture is not a neighbour of this node")
        with open_client(net, http, peer=prefecture) as client:
            signed = post_question(
                client, url.rstrip("/") + CODE_BLOCK_PATH, {"request": request}, peer=prefecture
            )
        block = _verified_block(node, net, signed, count=count, nonce=nonce, via=prefecture)
    except ReconcileFailed as error:
        raise Conflict(
            "JUKI-CODE-022",
            ja="全国センターから住民票コードの割当てを受けられませんでした。",
            en=f"The centre did not allot a block: {error.message_en[:160]}",
            field="count",
        ) from error
    return _add_to_pool(node, block, via=prefecture)


def _verified_block(
    node: ServiceContext, net: NetworkContext, signed: Any, *, count: int, nonce: str, via: str
) -> dict[str, Any]:
    try:
        document = verify_document(signed, signer=str(NATIONAL), net=net, node=node)
    except Rejected as error:
        raise untrusted(error.reason) from error
    expected = {
        "kind": BLOCK_KIND,
        "node": str(NATIONAL),
        "municipality_code": node.municipality_code,
        "nonce": nonce,
        "via": via,
    }
    if any(document.get(k) != v for k, v in expected.items()):
        raise untrusted("the block is not the answer to this request")
    codes = document.get("codes")
    if not isinstance(codes, list) or len(codes) != count or len(set(codes)) != count:
        raise untrusted("the block does not hold the codes asked for")
    try:
        for code in codes:
            validate_resident_code(str(code))
    except DomainError as error:
        raise untrusted("the block holds a malformed code") from error
    return document


def _add_to_pool(node: ServiceContext, block: dict[str, Any], *, via: str) -> ReceivedBlock:
    codes = [str(code) for code in block["codes"]]
    now = node.now()
    with node.uow() as uow:
        for start in range(0, len(codes), _CHUNK):
            if uow.codes.known(codes[start : start + _CHUNK]):
                # A code this node has seen would be issued twice: refuse the whole block.
                raise Conflict(
                    "JUKI-CODE-023",
                    ja="割り当てられたコードに既知のコードが含まれています。",
                    en="The centre's block holds a code this municipality already knows.",
                    field="count",
                )
        bulk.insert_rows(
            uow.session,
            _codes,
            [
                {
                    "code": code,
                    "municipality_code": node.municipality_code,
                    "state": CODE_AVAILABLE,
                    "allotted_at": now,
                    "issued_at": None,
                    "retired_at": None,
                }
                for code in codes
            ],
        )
        uow.session.add(
            CodeBlockRow(
                block_id=str(block["block_id"])[:40],
                municipality_code=node.municipality_code,
                size=len(codes),
                request_nonce=str(block["nonce"]),
                via=via,
                allotted_at=datetime.fromisoformat(str(block["allotted_at"])),
                received_at=now,
            )
        )
        uow.commit()
    with node.uow() as read:
        size = read.codes.available_count(node.municipality_code)
    return ReceivedBlock(block_id=str(block["block_id"]), size=len(codes), pool_size=size)


# --- at the prefecture and the centre -------------------------------------------------------


def answer_code_block(
    node: ServiceContext, net: NetworkContext, *, tls_peer_der: bytes | None, payload: Any
) -> dict[str, Any]:
    """Answer ``POST /network/v1/codes/block``: the centre's signed block.

    A prefecture relays a request its municipality signed; the centre allots. Raises
    :class:`Rejected` (recorded) for a caller, signature or request refused.
    """
    tls_peer: str | None = None
    try:
        tls_peer = net.peer_of_tls_certificate(tls_peer_der, now=node.now())
        caller = NodeId.parse(tls_peer)
        request = payload.get("request") if isinstance(payload, dict) else None
        if not isinstance(request, dict):
            raise Rejected("expected a signed request", status=400)
        if net.node.role is NodeRole.PREFECTURE:
            return _relay(node, net, caller, request)
        if net.node.role is NodeRole.NATIONAL:
            return _allot(node, net, caller, request)
        raise Rejected("this node allots no codes", status=404)
    except Rejected as rejection:
        record_rejection(
            node,
            reason=f"code block: {rejection.reason}",
            claimed_sender=tls_peer,
            tls_peer=tls_peer,
            envelope_id=None,
        )
        raise
    except ValidationError as error:
        record_rejection(
            node,
            reason=f"code block: {error.message_en}"[:200],
            claimed_sender=tls_peer,
            tls_peer=tls_peer,
            envelope_id=None,
        )
        raise Rejected("unknown caller") from error


def _signed_request(
    node: ServiceContext, net: NetworkContext, request: dict[str, Any]
) -> tuple[dict[str, Any], str, int]:
    """The request's document, its municipality and count — signed by that municipality."""
    claimed = request.get("document")
    code = claimed.get("municipality_code") if isinstance(claimed, dict) else None
    try:
        origin = municipality(str(code))
    except (DomainError, ValueError) as error:
        raise Rejected("the request names no valid municipality", status=400) from error
    # The origin is the signer: the request must verify under the named municipality's key.
    document = verify_document(request, signer=str(origin), net=net, node=node)
    if document.get("kind") != REQUEST_KIND:
        raise Rejected("not a code block request", status=400)
    nonce = document.get("nonce")
    if not isinstance(nonce, str) or not NONCE_RE.match(nonce):
        raise Rejected("nonce: up to 64 letters, digits, '-' or '_'", status=400)
    try:
        count = _check_count(document.get("count"))
    except ValidationError as error:
        raise Rejected(f"count: 1 to {MAX_BLOCK}", status=400) from error
    return document, origin.code, count


def _relay(
    node: ServiceContext, net: NetworkContext, caller: NodeId, request: dict[str, Any]
) -> dict[str, Any]:
    if caller.role is not NodeRole.MUNICIPALITY or caller.code[:2] != net.node.code:
        raise Rejected("only this prefecture's municipalities ask for codes here")
    _document, code, _count = _signed_request(node, net, request)
    if code != caller.code:
        raise Rejected("a municipality may ask for codes only for itself", status=403)
    signed, error = ask_national(node, net, CODE_BLOCK_PATH, {"request": request})
    if signed is None:
        raise Rejected(f"the centre did not allot: {error}", status=502)
    return signed


def _allot(
    node: ServiceContext, net: NetworkContext, caller: NodeId, request: dict[str, Any]
) -> dict[str, Any]:
    if caller.role is not NodeRole.PREFECTURE:
        raise Rejected("only prefectures pass on requests for codes")
    document, code, count = _signed_request(node, net, request)
    if code[:2] != caller.code:
        raise Rejected("the municipality does not belong to this prefecture", status=403)
    nonce = str(document["nonce"])
    now = node.now()
    block_id = uuid.uuid4().hex
    generator = random.Random(secrets.randbits(128))  # noqa: S311 - seeded from secrets
    with node.uow() as uow:
        seen = uow.session.scalar(
            select(CodeBlockRow.id).where(
                CodeBlockRow.municipality_code == code, CodeBlockRow.request_nonce == nonce
            )
        )
        if seen is not None:
            raise Rejected("this request was already answered (replay)", status=409)
        codes: list[str] = []
        taken: set[str] = set()
        while len(codes) < count:
            batch = list(random_resident_codes(generator, min(count - len(codes), _CHUNK)))
            used = uow.codes.known(batch) | identity_records.codes_held(uow.session, batch)
            fresh = [c for c in dict.fromkeys(batch) if c not in used and c not in taken]
            taken.update(fresh)
            bulk.insert_rows(
                uow.session,
                _codes,
                [
                    {
                        "code": c,
                        "municipality_code": code,
                        "state": CODE_ALLOTTED,
                        "allotted_at": now,
                        "issued_at": None,
                        "retired_at": None,
                    }
                    for c in fresh
                ],
            )
            codes.extend(fresh)
        uow.session.add(
            CodeBlockRow(
                block_id=block_id,
                municipality_code=code,
                size=count,
                request_nonce=nonce,
                via=str(caller),
                allotted_at=now,
            )
        )
        uow.commit()
    return sign_document(
        {
            "kind": BLOCK_KIND,
            "node": str(net.node),
            "block_id": block_id,
            "municipality_code": code,
            "via": str(caller),
            "nonce": nonce,
            "allotted_at": now.isoformat(),
            "codes": codes,
        },
        net,
    )
