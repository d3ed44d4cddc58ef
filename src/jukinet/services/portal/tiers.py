"""What the prefecture and the centre hold about one resident, asked by the resident's own
municipality for its portal: the identity record each tier holds and each tier's disclosure
(every access-log entry about the resident, proved against its signed, witnessed tree head).

One question, ``POST /network/v1/portal/resident``, goes municipality → prefecture; the
prefecture answers for itself and passes on the centre's signed answer untouched (as card
status checks do), so the municipality checks both signatures and both sets of proofs.

A tier answers only the municipality that holds the resident (a record held for another town is
refused and recorded: a municipality cannot fish for other towns' residents). The answer is a
read of personal data at that tier, so it is one access-log entry there, written in the same
transaction as the read, and shown to the resident among that tier's entries.
"""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Final

import httpx
from sqlalchemy.orm import Session

from jukinet.domain.access_log import AccessEntry, Action, ActorKind, Channel
from jukinet.domain.audit_math import SignedTreeHead
from jukinet.domain.codes import validate_resident_code
from jukinet.domain.errors import ValidationError
from jukinet.domain.network import NATIONAL, NodeId, NodeRole
from jukinet.domain.reconcile import NONCE_RE, ReconcileFailed, unreachable, untrusted
from jukinet.network.context import NetworkContext, Rejected
from jukinet.network.inbox import record_rejection, sign_document, verify_document
from jukinet.network.reconcile_client import ask_national, open_client, post_question
from jukinet.services import audit, head_publication
from jukinet.services.context import ServiceContext
from jukinet.storage.tables import IdentityRecordRow

PORTAL_PATH: Final = "/network/v1/portal/resident"
PORTAL_KIND: Final = "portal_resident"
#: The reason every tier records for a portal question (shown to the resident).
PORTAL_REASON: Final = "本人確認情報の開示請求（住民ポータル）"
PORTAL_ITEMS: Final = ("access_log", "identity")


# --- answering (prefecture, centre) ---------------------------------------------------------


def _authorise(net: NetworkContext, caller_name: str, municipality_code: str) -> NodeId:
    try:
        caller = NodeId.parse(caller_name)
    except ValidationError as error:
        raise Rejected("unknown caller") from error
    here = net.node
    if here.role is NodeRole.PREFECTURE:
        if caller.role is not NodeRole.MUNICIPALITY or caller.code[:2] != here.code:
            raise Rejected("only this prefecture's municipalities may ask here")
        if municipality_code != caller.code:
            raise Rejected("a municipality asks only for its own residents")
    elif here.role is NodeRole.NATIONAL:
        if caller.role is not NodeRole.PREFECTURE or municipality_code[:2] != caller.code:
            raise Rejected("only the resident's prefecture may ask the centre")
    else:
        raise Rejected("this node holds no identity information of other towns", status=404)
    return caller


def _question(payload: Any) -> tuple[str, str, str]:
    if not isinstance(payload, dict):
        raise Rejected("expected a JSON object", status=400)
    try:
        code = validate_resident_code(str(payload.get("resident_code", "")))
    except ValidationError as error:
        raise Rejected("resident_code: not a resident code", status=400) from error
    municipality_code = str(payload.get("municipality_code", ""))
    if len(municipality_code) != 6 or not municipality_code.isdigit():
        raise Rejected("municipality_code: six digits", status=400)
    nonce = payload.get("nonce", "")
    if not isinstance(nonce, str) or not NONCE_RE.match(nonce):
        raise Rejected("nonce: up to 64 letters, digits, '-' or '_'", status=400)
    return code, municipality_code, nonce


def _held(session: Session, code: str) -> dict[str, Any]:
    row = session.get(IdentityRecordRow, code)
    if row is None:
        return {"identity": None}
    return {
        "identity": {
            "resident_code": row.resident_code,
            "family_name": row.family_name,
            "given_name": row.given_name,
            "family_name_kana": row.family_name_kana,
            "given_name_kana": row.given_name_kana,
            "birth_date": row.birth_date.isoformat(),
            "sex": row.sex,
            "address": row.address,
            "municipality_code": row.municipality_code,
            "deleted": row.deleted,
            "last_reason": row.last_reason,
            "last_changed_on": row.last_changed_on.isoformat(),
        }
    }


def _held_elsewhere(node: ServiceContext, code: str, municipality_code: str) -> bool:
    with node.read_session() as session:
        held = session.get(IdentityRecordRow, code)
        return held is not None and held.municipality_code != municipality_code


def witnessed(node: ServiceContext, document: dict[str, Any]) -> dict[str, Any]:
    """A disclosure document with its head published to the witnesses and their signatures."""
    head = SignedTreeHead.from_dict(document["tree_head"])
    head_publication.publish_head(node, head)
    document["witnesses"] = head_publication.countersignatures(node, head.tree_size)
    return document


def answer_portal_resident(
    node: ServiceContext, net: NetworkContext, *, tls_peer_der: bytes | None, payload: Any
) -> dict[str, Any]:
    """Answer ``POST /network/v1/portal/resident``: this tier's record and disclosure, signed.

    Raises :class:`Rejected` (recorded) for a caller or question refused.
    """
    tls_peer: str | None = None
    try:
        tls_peer = net.peer_of_tls_certificate(tls_peer_der, now=node.now())
        code, municipality_code, nonce = _question(payload)
        caller = _authorise(net, tls_peer, municipality_code)
        if _held_elsewhere(node, code, municipality_code):
            raise Rejected("the resident is held for another municipality", status=403)
    except Rejected as rejection:
        record_rejection(
            node,
            reason=f"portal: {rejection.reason}",
            claimed_sender=tls_peer,
            tls_peer=tls_peer,
            envelope_id=None,
        )
        raise
    entry = AccessEntry(
        recorded_at=node.now(),
        node=str(node.node_id),
        action=Action.READ,
        channel=Channel.NETWORK,
        actor_kind=ActorKind.NODE,
        actor=str(caller),
        subject=code,
        reason=PORTAL_REASON,
        items=PORTAL_ITEMS,
    )
    is_prefecture = net.node.role is NodeRole.PREFECTURE
    with ThreadPoolExecutor(max_workers=1) as pool:
        # A prefecture's centre works on its part while this node works on its own.
        question = {"resident_code": code, "municipality_code": municipality_code, "nonce": nonce}
        national = (
            pool.submit(ask_national, node, net, PORTAL_PATH, question) if is_prefecture else None
        )
        disclosure = witnessed(
            node, audit.disclose_recorded(node, entry, also_read=lambda s: _held(s, code))
        )
        identity = disclosure.pop("identity")
        document: dict[str, Any] = {
            "kind": PORTAL_KIND,
            "node": str(net.node),
            "requested_by": str(caller),
            "resident_code": code,
            "municipality_code": municipality_code,
            "nonce": nonce,
            "identity": identity,
            "disclosure": disclosure,
        }
        if national is not None:
            signed, national_error = national.result()
            document["national"] = signed
            document["national_error"] = national_error
    return sign_document(document, net)


# --- asking (the resident's municipality) ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class TierAnswer:
    """One upper tier's verified answer, or why there is none."""

    node: str
    identity: dict[str, Any] | None = None
    disclosure: dict[str, Any] | None = None
    problem: str | None = None


def _verified(
    node: ServiceContext, net: NetworkContext, signed: Any, *, signer: str, expected: dict[str, Any]
) -> dict[str, Any]:
    if not isinstance(signed, dict):
        raise untrusted(f"no signed answer from {signer}")
    try:
        document = verify_document(signed, signer=signer, net=net, node=node)
    except Rejected as error:
        raise untrusted(error.reason) from error
    if any(document.get(k) != v for k, v in (expected | {"node": signer}).items()):
        raise untrusted(f"the answer of {signer} is not for this question")
    disclosure = document.get("disclosure")
    if not isinstance(disclosure, dict) or disclosure.get("resident_code") != expected.get(
        "resident_code"
    ):
        raise untrusted(f"the disclosure of {signer} is not about this resident")
    return document


def _answer(document: dict[str, Any], signer: str) -> TierAnswer:
    identity = document.get("identity")
    return TierAnswer(
        node=signer,
        identity=identity if isinstance(identity, dict) else None,
        disclosure=document["disclosure"],
    )


def ask_upper_tiers(
    node: ServiceContext, *, resident_code: str, http: httpx.Client | None = None
) -> list[TierAnswer]:
    """The prefecture's and the centre's answers about one of this town's residents.

    A tier that cannot be asked (disconnected, down, untrusted answer) is a :class:`TierAnswer`
    with its ``problem``: the portal shows what it could verify and says what is missing.
    """
    net = node.network
    prefecture = node.upstream
    if net is None or not node.connected:
        why = "this municipality is not connected to the network"
        return [TierAnswer(prefecture, problem=why), TierAnswer(str(NATIONAL), problem=why)]
    nonce = secrets.token_hex(16)
    question = {
        "resident_code": resident_code,
        "municipality_code": node.municipality_code,
        "nonce": nonce,
    }
    url = net.peers.get(prefecture)
    try:
        if url is None:
            raise unreachable(prefecture, "the prefecture is not a neighbour of this node")
        with open_client(net, http, peer=prefecture) as client:
            signed = post_question(client, url.rstrip("/") + PORTAL_PATH, question, peer=prefecture)
        expected = question | {"kind": PORTAL_KIND, "requested_by": str(net.node)}
        document = _verified(node, net, signed, signer=prefecture, expected=expected)
    except ReconcileFailed as error:
        return [
            TierAnswer(prefecture, problem=error.message_en),
            TierAnswer(str(NATIONAL), problem=error.message_en),
        ]
    answers = [_answer(document, prefecture)]
    national = document.get("national")
    try:
        if national is None:
            raise untrusted(str(document.get("national_error") or "no answer from the centre"))
        expected = question | {"kind": PORTAL_KIND, "requested_by": prefecture}
        answers.append(
            _answer(
                _verified(node, net, national, signer=str(NATIONAL), expected=expected),
                str(NATIONAL),
            )
        )
    except ReconcileFailed as error:
        answers.append(TierAnswer(str(NATIONAL), problem=error.message_en))
    return answers
