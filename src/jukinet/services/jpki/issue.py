"""At the municipality: a card issuer obtains the signature certificate for a resident's card.

After the card is issued (:func:`jukinet.services.resident_card.counter.issue_card`) the resident
enters the PIN; the chip's signature key must be the one the register recorded at issue. The
municipality sends that key, the resident code and the four basic items from its register to
its prefecture, in a document it signs, over mutual TLS; the prefecture's signed answer carries
the certificate, which is checked (issued by the prefectural CA, for this key) and written into
the chip. The card's trail and the access log record it; a refusal writes nothing here.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from jukinet.domain import resident_card as rules
from jukinet.domain.access_log import Action
from jukinet.domain.errors import Conflict, DomainError
from jukinet.domain.jpki import SubjectItems, key_mismatch
from jukinet.domain.operators import Actor, Permission
from jukinet.domain.reconcile import unreachable, untrusted
from jukinet.network.context import NetworkContext, Rejected
from jukinet.network.inbox import sign_document, verify_document
from jukinet.network.reconcile_client import open_client, post_question
from jukinet.services.context import ServiceContext
from jukinet.services.jpki.authority import ANSWER_KIND, ISSUE_PATH, REQUEST_KIND, items_as_json
from jukinet.services.jpki.revocation import items_of
from jukinet.services.resident_card import records
from jukinet.services.resident_card.records import CardWork
from jukinet.services.resident_card.terminal import open_chip

_REFUSAL_CODE = re.compile(r"^JUKI-JPKI-[0-9]{3}$")


@dataclass(frozen=True, slots=True)
class IssuedCertificate:
    """What the counter is shown: the card, the certificate's serial and validity, the issuer."""

    serial: str
    certificate_serial: str
    not_before: datetime
    not_after: datetime
    issuer: str


@dataclass(frozen=True, slots=True)
class _CardFacts:
    resident_code: str
    items: SubjectItems
    expires_on: date | None
    sign_public_key: bytes | None


def _not_connected() -> Conflict:
    return Conflict(
        "JUKI-JPKI-020",
        ja="ネットワークに接続していないため、署名用証明書を発行できません。",
        en="This municipality is not connected to the network: no signature certificate.",
    )


def _not_registered() -> Conflict:
    return Conflict(
        "JUKI-JPKI-015",
        ja="住民登録のない方（除票）には署名用証明書を発行できません。",
        en="A signature certificate is issued only to a registered resident.",
        field="serial",
    )


def _card_facts(node: ServiceContext, serial: str) -> _CardFacts:
    with node.uow() as uow:
        row = records.load(uow.session, node.municipality_code, serial)
        rules.require_usable(records.to_card(row), today=node.today())
        resident = uow.residents.find_row(row.resident_code)
        if resident is None or resident.status != "active":
            raise _not_registered()
        return _CardFacts(
            resident_code=row.resident_code,
            items=items_of(resident),
            expires_on=row.expires_on,
            sign_public_key=row.sign_public_key,
        )


def request_signature_certificate(
    node: ServiceContext,
    *,
    actor: Actor,
    serial: str,
    pin: str,
    http: httpx.Client | None = None,
) -> IssuedCertificate:
    """署名用電子証明書の発行: ask the prefecture, store the certificate in the chip.

    Raises the card's refusals (unknown, another town's, suspended, locked, wrong PIN), JUKI-JPKI
    refusals from the prefecture, or :class:`~jukinet.domain.reconcile.ReconcileFailed` when it
    cannot be asked or trusted.
    """
    actor.require(Permission.ISSUE_RESIDENT_CARDS)
    rules.validate_pin(pin, field="pin")
    net = node.network
    if net is None or not node.connected:
        raise _not_connected()
    facts = _card_facts(node, serial)
    with open_chip(node, serial=serial, pin=pin, place=actor.terminal_id) as chip:
        key = chip.sign_public_key_der()
        if facts.sign_public_key is None or key != facts.sign_public_key:
            raise key_mismatch()
        certificate = _ask_prefecture(node, net, serial, facts, key, http=http)
        chip.store_certificate(certificate.public_bytes(serialization.Encoding.DER))
    issued = IssuedCertificate(
        serial=serial,
        certificate_serial=f"{certificate.serial_number:040x}",
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        issuer=node.upstream,
    )
    with node.uow() as uow:
        row = records.load(uow.session, node.municipality_code, serial)
        work = CardWork(
            node=node,
            session=uow.session,
            now=node.now(),
            actor=actor.username,
            operator_id=actor.operator_id,
            place=actor.terminal_id,
        )
        work.event(
            row,
            "signature_certificate",
            {
                "certificate_serial": issued.certificate_serial,
                "not_after": issued.not_after.isoformat(),
                "issuer": issued.issuer,
            },
        )
        work.logged(row, action=Action.WRITE, reason="card:signature_certificate")
        uow.commit()
    return issued


def _ask_prefecture(
    node: ServiceContext,
    net: NetworkContext,
    serial: str,
    facts: _CardFacts,
    key: bytes,
    *,
    http: httpx.Client | None,
) -> x509.Certificate:
    prefecture = node.upstream
    url = net.peers.get(prefecture)
    if url is None:
        raise unreachable(prefecture, "the prefecture is not a neighbour of this node")
    nonce = secrets.token_hex(16)
    request = {
        "kind": REQUEST_KIND,
        "node": str(net.node),
        "prefecture": prefecture,
        "nonce": nonce,
        "serial": serial,
        "card_expires_on": facts.expires_on.isoformat() if facts.expires_on else None,
        "resident_code": facts.resident_code,
        "items": items_as_json(facts.items),
        "sign_public_key": base64.b64encode(key).decode("ascii"),
    }
    with open_client(net, http, peer=prefecture) as client:
        signed = post_question(
            client, url.rstrip("/") + ISSUE_PATH, sign_document(request, net), peer=prefecture
        )
    try:
        answer = verify_document(signed, signer=prefecture, net=net, node=node)
    except Rejected as error:
        raise untrusted(error.reason) from error
    expected = {
        "kind": ANSWER_KIND,
        "node": prefecture,
        "requested_by": str(net.node),
        "nonce": nonce,
        "serial": serial,
    }
    if any(answer.get(k) != v for k, v in expected.items()):
        raise untrusted(f"the answer of {prefecture} is not for this request")
    if "refused" in answer:
        raise _refusal(answer["refused"])
    return _checked_certificate(answer, key, facts.resident_code)


def _refusal(refused: Any) -> DomainError:
    if not isinstance(refused, dict) or not _REFUSAL_CODE.match(str(refused.get("code", ""))):
        return untrusted("a malformed refusal")
    return Conflict(
        str(refused["code"]),
        ja=str(refused.get("message_ja", ""))[:300],
        en=str(refused.get("message_en", ""))[:300],
        field=refused.get("field") if isinstance(refused.get("field"), str) else None,
    )


def _checked_certificate(
    answer: dict[str, Any], key: bytes, resident_code: str
) -> x509.Certificate:
    try:
        certificate = x509.load_der_x509_certificate(
            base64.b64decode(str(answer["certificate"]), validate=True)
        )
        ca = x509.load_der_x509_certificate(
            base64.b64decode(str(answer["ca_certificate"]), validate=True)
        )
        certificate.verify_directly_issued_by(ca)
    except (KeyError, ValueError, TypeError, binascii.Error) as error:
        raise untrusted(
            "the certificate is malformed or not issued by the prefectural CA"
        ) from error
    except Exception as error:  # InvalidSignature and friends
        raise untrusted("the certificate is not signed by the prefectural CA") from error
    issued_key = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if issued_key != key:
        raise untrusted("the certificate is for another key")
    if resident_code in certificate.subject.rfc4514_string():
        # Never write a certificate naming the resident code into a card (domain.md §3).
        raise untrusted("the certificate names the resident code")
    return certificate
