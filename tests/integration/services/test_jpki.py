"""The prefectural CA (公的個人認証) at a prefecture node, on SQLite and PostgreSQL.

Certificates are issued through the prefecture's own checks for a software P-256 key (the card's
chip is exercised in tests/integration/network/test_jpki.py); identity notices are applied as the
inbox applies them; the public endpoints are called through the node's public app.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from fastapi.testclient import TestClient
from sqlalchemy import select

from jukinet.domain.errors import Conflict
from jukinet.domain.identity import ChangeReason, IdentityInfo, IdentityNotice
from jukinet.domain.jpki import SubjectItems
from jukinet.domain.messages import MessageKind
from jukinet.domain.network import NodeId
from jukinet.network.handlers import APPLIED
from jukinet.services.context import ServiceContext
from jukinet.services.identity_store import receive_identity_message
from jukinet.services.jpki.authority import IssueRequest, issue_certificate
from jukinet.services.jpki.revocation import items_of
from jukinet.storage.jpki_tables import JpkiCertificateRow
from jukinet.storage.tables import AccessLogRow
from jukinet.web.jpki_public import create_public_app
from tests.conftest import TEST_NOW
from tests.support.clock import FixedClock
from tests.support.factories import held_resident
from tests.support.network import make_node, make_pki

NISHITOKYO = NodeId.parse("municipality:132292")
HACHIOJI = NodeId.parse("municipality:132012")
CODE = "12345678903"
OCSP_TYPE = {"content-type": "application/ocsp-request"}


@pytest.fixture
def prefecture(
    tmp_path: Path, new_database: Callable[[str], str], clock: FixedClock
) -> Iterator[ServiceContext]:
    """Tokyo's prefecture node (no servers: its services are called directly)."""
    pki, _ = make_pki(tmp_path / "pki", ["prefecture:13", "municipality:132292"], TEST_NOW)
    node = make_node(
        "prefecture:13", database_url=new_database("p13"), pki=pki, peers={}, clock=clock
    )
    yield node
    node.engine.dispose()


@pytest.fixture
def public(prefecture: ServiceContext) -> TestClient:
    return TestClient(create_public_app(prefecture))


def _held_info(code: str = CODE) -> IdentityInfo:
    return IdentityInfo(
        resident_code=code,
        family_name="山田",
        given_name="太郎",
        family_name_kana="ヤマダ",
        given_name_kana="タロウ",
        birth_date=date(1980, 4, 1),
        sex="male",
        address="東京都西東京市泉町一丁目2番3号",
    )


def _card_key() -> bytes:
    return (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def _issue(
    node: ServiceContext,
    *,
    caller: NodeId = NISHITOKYO,
    card: str = "132292-00000001",
    items: SubjectItems | None = None,
    code: str = CODE,
) -> x509.Certificate:
    request = IssueRequest(
        nonce=uuid.uuid4().hex,
        card_serial=card,
        card_expires_on=date(2036, 11, 25),
        resident_code=code,
        items=items or items_of(_held_info(code)),
        sign_public_key=_card_key(),
    )
    return issue_certificate(node, caller=caller, request=request)


def _ca_key(ca: x509.Certificate) -> ec.EllipticCurvePublicKey:
    key = ca.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    return key


def _status(node: ServiceContext, certificate: x509.Certificate) -> tuple[str, str | None]:
    with node.uow() as uow:
        row = uow.session.get(JpkiCertificateRow, f"{certificate.serial_number:040x}")
        assert row is not None
        return row.status, row.reason


def _notice(node: ServiceContext, notice: IdentityNotice, sender: str = str(NISHITOKYO)) -> None:
    with node.session_factory() as session, session.begin():
        outcome = receive_identity_message(
            session,
            here=node.node_id,
            sender=sender,
            # The notice as the inbox hands it over: its municipality's seal already checked.
            origin=NodeId.parse(sender),
            kind=MessageKind.IDENTITY_NOTICE,
            body=notice.as_body(),
            envelope_id=uuid.uuid4().hex,
            now=node.now(),
            today=node.today(),
            net=node.network,
        )
    assert outcome.status == APPLIED, outcome


def _fingerprint(node: ServiceContext) -> str:
    digest = hashlib.sha256()
    with node.uow() as uow:
        for table in (JpkiCertificateRow, AccessLogRow):
            for row in uow.session.scalars(select(table)).all():
                values = {c.key: getattr(row, c.key) for c in table.__table__.columns}
                digest.update(repr(sorted(values.items())).encode())
    return digest.hexdigest()


def _ca(public: TestClient) -> x509.Certificate:
    answer = public.get("/jpki/v1/13/ca")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pkix-cert"
    return x509.load_der_x509_certificate(answer.content)


def _ocsp(
    public: TestClient, certificate: x509.Certificate, issuer: x509.Certificate
) -> ocsp.OCSPResponse:
    request = ocsp.OCSPRequestBuilder().add_certificate(certificate, issuer, hashes.SHA1()).build()
    answer = public.post(
        "/jpki/v1/13/ocsp",
        content=request.public_bytes(serialization.Encoding.DER),
        headers=OCSP_TYPE,
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/ocsp-response"
    return ocsp.load_der_ocsp_response(answer.content)


# --- issuance ---------------------------------------------------------------------------------


def test_issues_a_certificate_naming_the_four_items_only(
    prefecture: ServiceContext, public: TestClient
) -> None:
    held_resident(prefecture, CODE)
    certificate = _issue(prefecture)
    ca = _ca(public)
    certificate.verify_directly_issued_by(ca)
    subject = certificate.subject
    assert subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == "山田 太郎"
    assert (
        subject.get_attributes_for_oid(x509.NameOID.STREET_ADDRESS)[0].value
        == "東京都西東京市泉町一丁目2番3号"
    )
    # The resident code appears nowhere in the certificate, in any encoding.
    der = certificate.public_bytes(serialization.Encoding.DER)
    assert CODE.encode() not in der
    assert CODE not in subject.rfc4514_string()
    assert certificate.not_valid_before_utc < TEST_NOW
    assert certificate.not_valid_after_utc.date() == date(2029, 11, 25)
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature
    assert usage.content_commitment
    assert not usage.key_cert_sign
    assert _status(prefecture, certificate) == ("good", None)
    with prefecture.uow() as uow:
        row = uow.session.get(JpkiCertificateRow, f"{certificate.serial_number:040x}")
        assert row is not None
        assert (row.card_serial, row.municipality_code) == ("132292-00000001", "132292")
        entry = uow.session.scalars(
            select(AccessLogRow).where(AccessLogRow.reason == "jpki:issue")
        ).one()
        assert entry.subject == CODE
        assert entry.actor == str(NISHITOKYO)


def test_a_new_certificate_for_the_same_card_supersedes_the_old(
    prefecture: ServiceContext,
) -> None:
    held_resident(prefecture, CODE)
    first = _issue(prefecture)
    second = _issue(prefecture)
    assert _status(prefecture, first) == ("revoked", "superseded")
    assert _status(prefecture, second) == ("good", None)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"family_name": "山本"}, "JUKI-JPKI-010"),
        ({"birth_date": date(1980, 4, 2)}, "JUKI-JPKI-010"),
        ({"sex": "female"}, "JUKI-JPKI-010"),
        ({"address": "東京都西東京市泉町一丁目2番4号"}, "JUKI-JPKI-010"),
    ],
)
def test_items_the_prefecture_does_not_hold_are_refused_and_nothing_written(
    prefecture: ServiceContext, change: dict[str, Any], code: str
) -> None:
    held_resident(prefecture, CODE)
    before = _fingerprint(prefecture)
    with pytest.raises(Conflict) as refused:
        _issue(prefecture, items=replace(items_of(_held_info()), **change))
    assert refused.value.code == code
    assert _fingerprint(prefecture) == before


def test_another_towns_resident_or_card_is_refused(prefecture: ServiceContext) -> None:
    held_resident(prefecture, CODE)  # held for Nishitokyo
    before = _fingerprint(prefecture)
    # Hachioji, with the resident's true items, on a card of its own: not its resident.
    with pytest.raises(Conflict) as refused:
        _issue(prefecture, caller=HACHIOJI, card="132012-00000001")
    assert refused.value.code == "JUKI-JPKI-011"
    # …and on Nishitokyo's card: not its card.
    with pytest.raises(Conflict) as refused:
        _issue(prefecture, caller=HACHIOJI, card="132292-00000001")
    assert refused.value.code == "JUKI-JPKI-014"
    # A resident nobody holds here.
    with pytest.raises(Conflict) as refused:
        _issue(prefecture, code="32803870127")
    assert refused.value.code == "JUKI-JPKI-011"
    assert _fingerprint(prefecture) == before


# --- automatic revocation ---------------------------------------------------------------------


def _changed(**items: Any) -> IdentityInfo:
    return replace(_held_info(), **items)


REVOKING = [
    pytest.param(ChangeReason.NAME_CHANGE, _changed(family_name="佐藤"), "name_changed", id="name"),
    pytest.param(
        ChangeReason.MOVE_WITHIN,
        _changed(address="東京都西東京市田無町四丁目1番1号"),
        "address_changed",
        id="address",
    ),
    pytest.param(
        ChangeReason.EX_OFFICIO_CORRECTION,
        _changed(birth_date=date(1980, 4, 11)),
        "birth_date_changed",
        id="birth",
    ),
    pytest.param(
        ChangeReason.EX_OFFICIO_CORRECTION, _changed(sex="female"), "sex_changed", id="sex"
    ),
    pytest.param(ChangeReason.DEATH, _held_info(), "record_deleted", id="death"),
    pytest.param(ChangeReason.MOVE_OUT, _held_info(), "record_deleted", id="move-out"),
    pytest.param(
        ChangeReason.CODE_CHANGE, _changed(resident_code="91670246294"), "code_changed", id="code"
    ),
]


@pytest.mark.parametrize(("reason", "current", "revocation"), REVOKING)
def test_a_notice_revokes_in_the_same_commit(
    prefecture: ServiceContext,
    public: TestClient,
    reason: ChangeReason,
    current: IdentityInfo,
    revocation: str,
) -> None:
    held_resident(prefecture, CODE)
    certificate = _issue(prefecture)
    ca = _ca(public)
    assert _ocsp(public, certificate, ca).certificate_status is ocsp.OCSPCertStatus.GOOD
    notice = IdentityNotice(
        municipality_code="132292",
        current=current,
        reason=reason,
        changed_on=date(2026, 11, 25),
        before=_held_info(),
    )
    _notice(prefecture, notice)
    assert _status(prefecture, certificate) == ("revoked", revocation)
    answer = _ocsp(public, certificate, ca)
    assert answer.certificate_status is ocsp.OCSPCertStatus.REVOKED
    assert answer.revocation_time_utc == TEST_NOW
    # Revoked at the moment the notice was applied.


@pytest.mark.parametrize(
    "current",
    [
        pytest.param(_changed(family_name_kana="ヤマタ"), id="kana-only"),
        pytest.param(_held_info(), id="same-items"),
    ],
)
def test_a_notice_that_leaves_the_four_items_alone_revokes_nothing(
    prefecture: ServiceContext, current: IdentityInfo
) -> None:
    held_resident(prefecture, CODE)
    certificate = _issue(prefecture)
    notice = IdentityNotice(
        municipality_code="132292",
        current=current,
        reason=ChangeReason.EX_OFFICIO_CORRECTION,
        changed_on=date(2026, 11, 25),
        before=_held_info(),
    )
    _notice(prefecture, notice)
    assert _status(prefecture, certificate) == ("good", None)


def test_another_residents_notice_revokes_nothing(prefecture: ServiceContext) -> None:
    held_resident(prefecture, CODE)
    other = "32803870127"
    held_resident(prefecture, other)
    certificate = _issue(prefecture)
    notice = IdentityNotice(
        municipality_code="132292",
        current=_changed(resident_code=other, address="東京都西東京市田無町四丁目1番1号"),
        reason=ChangeReason.MOVE_WITHIN,
        changed_on=date(2026, 11, 25),
        before=_changed(resident_code=other),
    )
    _notice(prefecture, notice)
    assert _status(prefecture, certificate) == ("good", None)


def test_a_withdrawal_revokes(prefecture: ServiceContext) -> None:
    held_resident(prefecture, CODE)
    certificate = _issue(prefecture)
    with prefecture.session_factory() as session, session.begin():
        outcome = receive_identity_message(
            session,
            here=prefecture.node_id,
            sender=str(NISHITOKYO),
            origin=NISHITOKYO,
            kind=MessageKind.IDENTITY_WITHDRAWAL,
            body={"resident_code": CODE, "municipality_code": "132292"},
            envelope_id="w1",
            now=prefecture.now(),
            today=prefecture.today(),
            net=prefecture.network,
        )
    assert outcome.status == APPLIED
    assert _status(prefecture, certificate) == ("revoked", "withdrawn")


# --- CRL and OCSP -----------------------------------------------------------------------------


def test_crl_lists_the_revoked_serials_signed_by_the_ca(
    prefecture: ServiceContext, public: TestClient, clock: FixedClock
) -> None:
    codes = [CODE, "32803870127", "91670246294"]
    certificates = []
    for number, code in enumerate(codes, start=1):
        held_resident(prefecture, code)
        certificates.append(_issue(prefecture, card=f"132292-{number:08d}", code=code))
    ca = _ca(public)
    empty = x509.load_der_x509_crl(public.get("/jpki/v1/13/crl").content)
    assert empty.is_signature_valid(_ca_key(ca))
    assert len(empty) == 0
    for code in codes[:2]:
        _notice(
            prefecture,
            IdentityNotice(
                municipality_code="132292",
                current=_changed(resident_code=code),
                reason=ChangeReason.DEATH,
                changed_on=date(2026, 11, 25),
                before=None,
            ),
        )
    clock.advance(seconds=1)
    answer = public.get("/jpki/v1/13/crl")
    assert answer.headers["content-type"] == "application/pkix-crl"
    crl = x509.load_der_x509_crl(answer.content)
    assert crl.is_signature_valid(_ca_key(ca))
    assert crl.issuer == ca.subject
    assert {entry.serial_number for entry in crl} == {c.serial_number for c in certificates[:2]}
    entry = crl.get_revoked_certificate_by_serial_number(certificates[0].serial_number)
    assert entry is not None
    assert entry.revocation_date_utc == TEST_NOW
    reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    assert reason is x509.ReasonFlags.cessation_of_operation
    assert crl.next_update_utc is not None
    assert crl.next_update_utc > clock.current
    number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    assert number > empty.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number


def test_ocsp_good_revoked_and_unknown_signed_by_a_delegated_responder(
    prefecture: ServiceContext, public: TestClient
) -> None:
    held_resident(prefecture, CODE)
    good = _issue(prefecture)
    ca = _ca(public)
    answer = _ocsp(public, good, ca)
    assert answer.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    assert answer.certificate_status is ocsp.OCSPCertStatus.GOOD
    [responder] = answer.certificates
    responder.verify_directly_issued_by(ca)
    usage = responder.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert x509.oid.ExtendedKeyUsageOID.OCSP_SIGNING in usage
    public_key = responder.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    public_key.verify(answer.signature, answer.tbs_response_bytes, ec.ECDSA(hashes.SHA256()))
    # A certificate this CA never issued (same issuer, unknown serial): unknown.
    key = ec.generate_private_key(ec.SECP256R1())
    stranger = (
        x509.CertificateBuilder()
        .subject_name(good.subject)
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(TEST_NOW)
        .not_valid_after(TEST_NOW.replace(year=2027))
        .sign(key, hashes.SHA256())
    )
    assert _ocsp(public, stranger, ca).certificate_status is ocsp.OCSPCertStatus.UNKNOWN
    # Another CA's certificate: unauthorized.
    other = _ocsp(public, stranger, stranger)
    assert other.response_status is ocsp.OCSPResponseStatus.UNAUTHORIZED


def test_public_refusals_write_nothing(prefecture: ServiceContext, public: TestClient) -> None:
    held_resident(prefecture, CODE)
    _issue(prefecture)
    public.get("/jpki/v1/13/ca")
    before = _fingerprint(prefecture)
    assert public.get("/jpki/v1/14/crl").status_code == 404
    assert public.get("/jpki/v1/1x/crl").status_code == 422
    assert public.post("/jpki/v1/13/ocsp", content=b"x", headers={}).status_code == 415
    assert public.post("/jpki/v1/13/ocsp", content=b"", headers=OCSP_TYPE).status_code == 422
    garbled = public.post("/jpki/v1/13/ocsp", content=b"\x30\x03abc", headers=OCSP_TYPE)
    assert garbled.status_code == 200
    status = ocsp.load_der_ocsp_response(garbled.content).response_status
    assert status is ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    huge = public.post("/jpki/v1/13/ocsp", content=b"0" * 20000, headers=OCSP_TYPE)
    assert huge.status_code == 413
    assert _fingerprint(prefecture) == before
