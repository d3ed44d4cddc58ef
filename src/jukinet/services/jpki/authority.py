"""The prefecture issues signature certificates to its municipalities' card holders.

A municipality asks over the mutual-TLS network with a document it signed (the origin is the
signer, and it must be the TLS peer): the card's serial, its signature key, the resident code and
the four basic items. The prefecture checks that the caller is one of *its* municipalities, that
the card is the caller's, and that the resident is held here for the caller with exactly those
four items — a municipality holding real keys still gets no certificate for another town's
resident, nor for items it made up. It then issues the certificate, records it, and answers with
a signed document (the certificate, or the refusal's code).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select
from sqlalchemy.orm import Session

from jukinet.domain.access_log import AccessEntry, Action, ActorKind, Channel
from jukinet.domain.codes import validate_resident_code
from jukinet.domain.errors import DomainError, ValidationError
from jukinet.domain.jpki import (
    CertificateStatus,
    RevocationReason,
    SubjectItems,
    card_not_usable,
    items_differ,
    not_your_card,
    not_your_resident,
    subject_digest,
    validity,
)
from jukinet.domain.network import NodeId, NodeRole
from jukinet.domain.reconcile import NONCE_RE
from jukinet.domain.resident_card import NetworkStatus, issuer_of, validate_serial
from jukinet.network.context import NetworkContext, Rejected
from jukinet.network.inbox import record_rejection, sign_document, verify_document
from jukinet.network.jpki_ca import authority_of
from jukinet.services.context import ServiceContext
from jukinet.services.jpki.revocation import items_of, revoke
from jukinet.storage import access_log
from jukinet.storage.card_tables import CardStatusRow
from jukinet.storage.jpki_tables import JpkiCertificateRow
from jukinet.storage.tables import IdentityRecordRow

ISSUE_PATH: Final = "/network/v1/jpki/issue"
REQUEST_KIND: Final = "jpki_issue_request"
ANSWER_KIND: Final = "jpki_issue_answer"
#: The access log's name for what the prefecture compared and put into the certificate.
SUBJECT_ITEMS: Final = ("name", "birth_date", "sex", "address")
_REQUEST_KEYS: Final = frozenset(
    {
        "kind",
        "node",
        "prefecture",
        "nonce",
        "serial",
        "card_expires_on",
        "resident_code",
        "items",
        "sign_public_key",
    }
)
_ITEM_KEYS: Final = frozenset({"family_name", "given_name", "birth_date", "sex", "address"})


@dataclass(frozen=True, slots=True)
class IssueRequest:
    """A municipality's verified request for a signature certificate."""

    nonce: str
    card_serial: str
    card_expires_on: date | None
    resident_code: str
    items: SubjectItems
    sign_public_key: bytes


def items_as_json(items: SubjectItems) -> dict[str, str]:
    """The four items as they travel in a request."""
    return {
        "family_name": items.family_name,
        "given_name": items.given_name,
        "birth_date": items.birth_date.isoformat(),
        "sex": items.sex,
        "address": items.address,
    }


def _authorise(net: NetworkContext, caller_name: str) -> NodeId:
    try:
        caller = NodeId.parse(caller_name)
    except ValidationError as error:
        raise Rejected("unknown caller") from error
    here = net.node
    if here.role is not NodeRole.PREFECTURE:
        raise Rejected("only a prefecture issues signature certificates", status=404)
    if caller.role is not NodeRole.MUNICIPALITY or caller.code[:2] != here.code:
        raise Rejected("only this prefecture's municipalities may ask for certificates")
    return caller


def _read_request(
    node: ServiceContext, net: NetworkContext, payload: Any, *, signer: str
) -> IssueRequest:
    if not isinstance(payload, dict):
        raise Rejected("expected a signed document", status=400)
    document = verify_document(payload, signer=signer, net=net, node=node)
    if set(document) != _REQUEST_KEYS or document["kind"] != REQUEST_KIND:
        raise Rejected("not a certificate request", status=400)
    if document["node"] != signer or document["prefecture"] != str(net.node):
        raise Rejected("the request names another requester or prefecture")
    try:
        nonce = str(document["nonce"])
        if not NONCE_RE.match(nonce):
            raise ValueError(nonce)
        items = document["items"]
        if not isinstance(items, dict) or set(items) != _ITEM_KEYS:
            raise ValueError("items")
        if items["sex"] not in {"male", "female"}:
            raise ValueError("sex")
        expires = document["card_expires_on"]
        return IssueRequest(
            nonce=nonce,
            card_serial=validate_serial(str(document["serial"])),
            card_expires_on=date.fromisoformat(str(expires)) if expires else None,
            resident_code=validate_resident_code(str(document["resident_code"])),
            items=SubjectItems(
                family_name=str(items["family_name"]),
                given_name=str(items["given_name"]),
                birth_date=date.fromisoformat(str(items["birth_date"])),
                sex=str(items["sex"]),
                address=str(items["address"]),
            ),
            sign_public_key=base64.b64decode(str(document["sign_public_key"]), validate=True),
        )
    except (DomainError, ValueError, TypeError, binascii.Error) as error:
        raise Rejected("malformed certificate request", status=400) from error


def answer_issuance(
    node: ServiceContext, net: NetworkContext, *, tls_peer_der: bytes | None, payload: Any
) -> dict[str, Any]:
    """Answer ``POST /network/v1/jpki/issue``: a signed certificate, or a signed refusal.

    Raises :class:`Rejected` (recorded) for a caller, signature or request refused before any
    personal data is looked at.
    """
    tls_peer: str | None = None
    try:
        tls_peer = net.peer_of_tls_certificate(tls_peer_der, now=node.now())
        caller = _authorise(net, tls_peer)
        request = _read_request(node, net, payload, signer=tls_peer)
    except Rejected as rejection:
        record_rejection(
            node,
            reason=f"jpki issue: {rejection.reason}",
            claimed_sender=tls_peer,
            tls_peer=tls_peer,
            envelope_id=None,
        )
        raise
    answer: dict[str, Any] = {
        "kind": ANSWER_KIND,
        "node": str(net.node),
        "requested_by": str(caller),
        "nonce": request.nonce,
        "serial": request.card_serial,
    }
    try:
        certificate = issue_certificate(node, caller=caller, request=request)
    except DomainError as error:
        _record_refusal(node, caller, request, error)
        answer["refused"] = error.as_dict()
    else:
        ca = authority_of(node.settings, net.node.code).certificate()
        answer["certificate"] = _b64(certificate.public_bytes(serialization.Encoding.DER))
        answer["ca_certificate"] = _b64(ca.public_bytes(serialization.Encoding.DER))
    return sign_document(answer, net)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _held(session: Session, resident_code: str) -> IdentityRecordRow | None:
    query = select(IdentityRecordRow).where(IdentityRecordRow.resident_code == resident_code)
    if session.get_bind().dialect.name == "postgresql":
        # The revocation hook takes the same lock: a notice changing these items either lands
        # before this check (which then refuses) or after the certificate (which it revokes).
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def issue_certificate(
    node: ServiceContext, *, caller: NodeId, request: IssueRequest
) -> x509.Certificate:
    """Check ``request`` against what this prefecture holds, issue and record the certificate.

    Raises :class:`~jukinet.domain.errors.Conflict` (JUKI-JPKI-010…014) and writes nothing when
    the card, the resident or the items are not the caller's to certify.
    """
    if issuer_of(request.card_serial) != caller.code:
        raise not_your_card()
    now = node.now()
    authority = authority_of(node.settings, node.node_id.code)
    authority.ensure(now=now)
    with node.uow() as uow:
        session = uow.session
        held = _held(session, request.resident_code)
        if held is None or held.deleted or held.municipality_code != caller.code:
            raise not_your_resident()
        if items_of(held) != request.items:
            raise items_differ()
        status = session.get(CardStatusRow, request.card_serial)
        if status is not None and status.status != NetworkStatus.VALID.value:
            raise card_not_usable()
        earlier = session.scalars(
            select(JpkiCertificateRow).where(
                JpkiCertificateRow.card_serial == request.card_serial,
                JpkiCertificateRow.status == CertificateStatus.GOOD.value,
            )
        ).all()
        for row in earlier:
            revoke(row, reason=RevocationReason.SUPERSEDED, now=now)
        not_before, not_after = validity(now, card_expires_on=request.card_expires_on)
        serial = x509.random_serial_number()
        certificate = authority.issue(
            public_key_der=request.sign_public_key,
            items=request.items,
            serial=serial,
            not_before=not_before,
            not_after=not_after,
        )
        session.add(
            JpkiCertificateRow(
                serial=serial_hex(serial),
                card_serial=request.card_serial,
                municipality_code=caller.code,
                resident_code=request.resident_code,
                subject_hash=subject_digest(request.items),
                not_before=not_before,
                not_after=not_after,
                status=CertificateStatus.GOOD.value,
                issued_at=now,
            )
        )
        access_log.record(
            session,
            [_entry(node, caller, request, now, Action.WRITE, {"certificate": serial_hex(serial)})],
        )
        uow.commit()
    return certificate


def serial_hex(serial: int) -> str:
    """How the register writes a certificate serial: 40 lower-case hex digits."""
    return f"{serial:040x}"


def _entry(
    node: ServiceContext,
    caller: NodeId,
    request: IssueRequest,
    now: datetime,
    action: Action,
    detail: dict[str, str],
) -> AccessEntry:
    return AccessEntry(
        recorded_at=now,
        node=str(node.node_id),
        action=action,
        channel=Channel.NETWORK,
        actor_kind=ActorKind.NODE,
        actor=str(caller),
        subject=request.resident_code,
        reason="jpki:issue",
        items=SUBJECT_ITEMS,
        detail=detail,
    )


def _record_refusal(
    node: ServiceContext, caller: NodeId, request: IssueRequest, error: DomainError
) -> None:
    # A refused request is on record (the access log shows who asked about whom, and why not);
    # nothing else is written.
    now = node.now()
    with node.uow() as uow:
        access_log.record(
            uow.session, [_entry(node, caller, request, now, Action.REFUSED, {"code": error.code})]
        )
        uow.commit()
