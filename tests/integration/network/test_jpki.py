"""公的個人認証 end to end on real nodes: mutual TLS, SoftHSM cards, both databases.

A card issued at Nishitokyo gets its signature certificate from Tokyo's CA; a file signed with
the card verifies, and after the resident's address change reaches Tokyo, OCSP says "revoked"
and so does the verifier (service and command line). Hachioji — a Tokyo municipality holding
its own genuine keys — and Yokohama get nothing for Nishitokyo's resident.
"""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from cryptography import x509
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from jukinet.cli.main import app as cli_app
from jukinet.domain.errors import AuthenticationFailed, Conflict
from jukinet.domain.identity import IdentityInfo
from jukinet.domain.operators import Actor, Role
from jukinet.domain.resident_card import CardForm
from jukinet.network import resident_card_token as chip
from jukinet.network.hsm import DEFAULT_MODULE
from jukinet.network.inbox import sign_document, verify_document
from jukinet.network.transport import SharedSignalServer
from jukinet.services import register
from jukinet.services.context import ServiceContext
from jukinet.services.jpki.authority import ISSUE_PATH, REQUEST_KIND
from jukinet.services.jpki.issue import request_signature_certificate
from jukinet.services.jpki.signature import Verdict, sign_file, verify_file
from jukinet.services.resident_card import counter
from jukinet.services.resident_card.inputs import (
    CallerRelation,
    CardApplication,
    CardIssue,
    IdDocument,
    LossReport,
)
from jukinet.storage.card_tables import ResidentCardEventRow
from jukinet.storage.jpki_tables import JpkiCertificateRow
from jukinet.storage.tables import NetworkRejectionRow
from jukinet.web.jpki_public import create_public_app
from tests.support.clock import FixedClock
from tests.support.factories import make_actor, move_in_household, person
from tests.support.network import drain, free_port

pytestmark = pytest.mark.skipif(
    not Path(DEFAULT_MODULE).exists(), reason="SoftHSM2 is not installed (apt-get install softhsm2)"
)

NISHITOKYO = "municipality:132292"
HACHIOJI = "municipality:132012"
TOKYO = "prefecture:13"
CENTRE = "national:jlis"
YOKOHAMA = "municipality:141003"
PIN = "1234"
Build = Callable[..., dict[str, ServiceContext]]


class Town:
    """The network, Nishitokyo's resident with an issued card, and the card issuer."""

    def __init__(self, nodes: dict[str, ServiceContext]) -> None:
        self.nodes = nodes
        self.town = nodes[NISHITOKYO]
        self.tokyo = nodes[TOKYO]
        clerk = make_actor(self.town)
        self.record = move_in_household(self.town, clerk, person()).records[0].record
        self.issuer: Actor = make_actor(self.town, Role.CARD_ISSUER)
        applied = counter.apply_for_card(
            self.town,
            actor=self.issuer,
            application=CardApplication(self.record.resident_code, CardForm.NAME_ONLY),
        )
        counter.issue_card(
            self.town,
            actor=self.issuer,
            issue=CardIssue(applied.serial, PIN, PIN, IdDocument.DRIVERS_LICENCE),
        )
        self.serial = applied.serial
        self.clerk = clerk
        drain(nodes)

    @property
    def identity(self) -> IdentityInfo:
        return self.record.identity()

    def certificates(self) -> list[JpkiCertificateRow]:
        with self.tokyo.uow() as uow:
            return list(uow.session.scalars(select(JpkiCertificateRow)).all())


@pytest.fixture
def town(network: Build, card_reader: Path) -> Town:
    return Town(network(NISHITOKYO, HACHIOJI, TOKYO, CENTRE, YOKOHAMA))


@pytest.fixture
def public(town: Town) -> TestClient:
    return TestClient(create_public_app(town.tokyo))


def _ask_ocsp(public: TestClient) -> Callable[[bytes], bytes]:
    def ask(request: bytes) -> bytes:
        answer = public.post(
            "/jpki/v1/13/ocsp",
            content=request,
            headers={"content-type": "application/ocsp-request"},
        )
        assert answer.status_code == 200
        return answer.content

    return ask


def _trust(public: TestClient) -> x509.Certificate:
    return x509.load_der_x509_certificate(public.get("/jpki/v1/13/ca").content)


def test_issue_sign_verify_then_revoked_by_an_address_change(
    town: Town, public: TestClient, clock: FixedClock
) -> None:
    issued = request_signature_certificate(
        town.town, actor=town.issuer, serial=town.serial, pin=PIN
    )
    assert issued.issuer == TOKYO
    with chip.ResidentCardToken.open(town.serial, PIN) as card:
        der = card.certificate_der()
    assert der is not None
    certificate = x509.load_der_x509_certificate(der)
    assert f"{certificate.serial_number:040x}" == issued.certificate_serial
    assert town.record.resident_code.encode() not in der
    assert certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == (
        f"{town.identity.family_name} {town.identity.given_name}"
    )
    [row] = town.certificates()
    assert row.status == "good"
    with town.town.uow() as uow:
        kinds = uow.session.scalars(select(ResidentCardEventRow.kind)).all()
    assert "signature_certificate" in kinds

    data = "転出届 / notification of moving out".encode()
    bundle = sign_file(town.serial, PIN, data, now=clock.current)
    trust = _trust(public)
    result = verify_file(data, bundle, trust=trust, ask_ocsp=_ask_ocsp(public), now=clock.current)
    assert result.verdict is Verdict.VALID
    tampered = verify_file(
        data + b"!", bundle, trust=trust, ask_ocsp=_ask_ocsp(public), now=clock.current
    )
    assert tampered.verdict is Verdict.BAD

    clock.advance(minutes=10)
    register.file_move_within(
        town.town,
        actor=town.clerk,
        household_number=town.record.household_number,
        address="東京都西東京市田無町四丁目5番6号",
        moved_on=date(2026, 11, 26),
        filed_on=date(2026, 11, 26),
    )
    drain(town.nodes)
    [row] = town.certificates()
    assert (row.status, row.reason) == ("revoked", "address_changed")
    clock.advance(minutes=1)
    after = verify_file(data, bundle, trust=trust, ask_ocsp=_ask_ocsp(public), now=clock.current)
    assert after.verdict is Verdict.REVOKED
    assert after.revoked_at == clock.current - timedelta(minutes=1)
    assert not after.revoked_before_signing


def test_a_wrong_pin_gets_no_certificate(town: Town) -> None:
    with pytest.raises(AuthenticationFailed) as refused:
        request_signature_certificate(town.town, actor=town.issuer, serial=town.serial, pin="9999")
    assert refused.value.code == "JUKI-CARD-030"
    assert town.certificates() == []


def test_a_suspended_card_gets_no_certificate(town: Town) -> None:
    counter.report_loss(
        town.town,
        actor=town.clerk,
        report=LossReport(town.serial, "山田 太郎", CallerRelation.SELF, ("name",), ""),
    )
    with pytest.raises(Conflict) as refused:
        request_signature_certificate(town.town, actor=town.issuer, serial=town.serial, pin=PIN)
    assert refused.value.code == "JUKI-CARD-011"
    assert town.certificates() == []


def test_a_lost_card_revokes_its_certificate_at_the_prefecture(
    town: Town, public: TestClient, clock: FixedClock
) -> None:
    request_signature_certificate(town.town, actor=town.issuer, serial=town.serial, pin=PIN)
    data = "申請書".encode()
    bundle = sign_file(town.serial, PIN, data, now=clock.current)
    clock.advance(minutes=5)
    counter.report_loss(
        town.town,
        actor=town.clerk,
        report=LossReport(town.serial, "山田 太郎", CallerRelation.SELF, ("name",), ""),
    )
    drain(town.nodes)
    [row] = town.certificates()
    assert (row.status, row.reason) == ("revoked", "card_suspended")
    clock.advance(minutes=1)
    verdict = verify_file(
        data, bundle, trust=_trust(public), ask_ocsp=_ask_ocsp(public), now=clock.current
    )
    assert verdict.verdict is Verdict.REVOKED


def test_a_returned_card_revokes_its_certificate(town: Town) -> None:
    request_signature_certificate(town.town, actor=town.issuer, serial=town.serial, pin=PIN)
    counter.return_card(town.town, actor=town.issuer, serial=town.serial)
    drain(town.nodes)
    [row] = town.certificates()
    assert (row.status, row.reason) == ("revoked", "card_ended")


def _request(town: Town, *, signer: str, node: str, serial: str) -> dict[str, Any]:
    """A request for Nishitokyo's resident with the true items, signed by ``signer``'s key."""
    identity = town.identity
    with chip.ResidentCardToken.open(town.serial, PIN) as card:
        key = base64.b64encode(card.sign_public_key_der()).decode()
    document = {
        "kind": REQUEST_KIND,
        "node": node,
        "prefecture": TOKYO,
        "nonce": "n1",
        "serial": serial,
        "card_expires_on": None,
        "resident_code": identity.resident_code,
        "items": {
            "family_name": identity.family_name,
            "given_name": identity.given_name,
            "birth_date": identity.birth_date.isoformat(),
            "sex": identity.sex,
            "address": identity.address,
        },
        "sign_public_key": key,
    }
    net = town.nodes[signer].network
    assert net is not None
    return sign_document(document, net)


def _post(town: Town, sender: str, body: dict[str, Any]) -> httpx.Response:
    """POST ``body`` to Tokyo over mutual TLS as ``sender`` (its genuine certificate)."""
    net = town.nodes[sender].network
    assert net is not None
    assert town.town.network is not None
    url = town.town.network.peers[TOKYO]
    with httpx.Client(verify=net.client_ssl_context(), timeout=30) as client:
        return client.post(url + ISSUE_PATH, json=body)


def test_a_hostile_municipality_with_real_keys_gets_nothing(town: Town) -> None:
    # Hachioji, a Tokyo town, asks for Nishitokyo's resident with the true items.
    answer = _post(
        town, HACHIOJI, _request(town, signer=HACHIOJI, node=HACHIOJI, serial="132012-00000001")
    )
    assert answer.status_code == 200
    net = town.town.network
    assert net is not None
    document = verify_document(answer.json(), signer=TOKYO, net=net, node=town.town)
    assert document["refused"]["code"] == "JUKI-JPKI-011"
    assert "certificate" not in document
    # …on Nishitokyo's card serial.
    answer = _post(
        town, HACHIOJI, _request(town, signer=HACHIOJI, node=HACHIOJI, serial=town.serial)
    )
    document = verify_document(answer.json(), signer=TOKYO, net=net, node=town.town)
    assert document["refused"]["code"] == "JUKI-JPKI-014"
    # …claiming to be Nishitokyo in a document it signed itself.
    answer = _post(
        town, HACHIOJI, _request(town, signer=HACHIOJI, node=NISHITOKYO, serial=town.serial)
    )
    assert answer.status_code == 403
    # …replaying a request Nishitokyo signed, over its own TLS: the origin is the signer.
    answer = _post(
        town, HACHIOJI, _request(town, signer=NISHITOKYO, node=NISHITOKYO, serial=town.serial)
    )
    assert answer.status_code == 403
    # Yokohama is not even one of Tokyo's municipalities.
    answer = _post(
        town, YOKOHAMA, _request(town, signer=YOKOHAMA, node=YOKOHAMA, serial="141003-00000001")
    )
    assert answer.status_code == 403
    assert town.certificates() == []
    with town.tokyo.uow() as uow:
        refusals = uow.session.scalar(select(func.count()).select_from(NetworkRejectionRow))
    assert refusals == 3


# --- the command line, against a real plain-HTTP responder --------------------------------------


@contextlib.contextmanager
def _serving_public(node: ServiceContext) -> Iterator[str]:
    port = free_port()
    server = SharedSignalServer(
        uvicorn.Config(create_public_app(node), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the public server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}/jpki/v1/13"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_command_line_sign_and_verify(town: Town, clock: FixedClock, tmp_path: Path) -> None:
    # The commands use the machine's clock: so does Tokyo here.
    clock.current = datetime.now(UTC)
    request_signature_certificate(town.town, actor=town.issuer, serial=town.serial, pin=PIN)
    document = tmp_path / "申請書.txt"
    document.write_text("住民票の写しの交付申請\n", encoding="utf-8")
    runner = CliRunner()
    signed = runner.invoke(
        cli_app,
        ["jpki", "sign", str(document), "--serial", town.serial, "--pin-from-stdin"],
        input=PIN + "\n",
    )
    assert signed.exit_code == 0, signed.output
    signature = tmp_path / "申請書.txt.sig.json"
    assert json.loads(signature.read_text(encoding="utf-8"))["format"]
    with _serving_public(town.tokyo) as base:
        ca = tmp_path / "tokyo-ca.der"
        ca.write_bytes(httpx.get(base + "/ca").content)
        verify = ["jpki", "verify", str(document), str(signature), "--ocsp", base + "/ocsp"]
        valid = runner.invoke(cli_app, [*verify, "--ca", str(ca)])
        assert valid.exit_code == 0, valid.output
        assert "valid" in valid.output
        # Without --ca the CA is fetched and its fingerprint shown.
        fetched = runner.invoke(cli_app, verify)
        assert fetched.exit_code == 0, fetched.output
        register.file_move_within(
            town.town,
            actor=town.clerk,
            household_number=town.record.household_number,
            address="東京都西東京市田無町四丁目5番6号",
            moved_on=date(2026, 11, 26),
            filed_on=date(2026, 11, 26),
        )
        drain(town.nodes)
        revoked = runner.invoke(cli_app, [*verify, "--ca", str(ca)])
        assert revoked.exit_code == 1, revoked.output
        assert "revoked at" in revoked.output
        # A file that was not signed.
        document.write_text("改ざん\n", encoding="utf-8")
        bad = runner.invoke(cli_app, [*verify, "--ca", str(ca)])
        assert bad.exit_code == 1
        assert "bad" in bad.output
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{}", encoding="utf-8")
    malformed = runner.invoke(
        cli_app,
        [
            "jpki",
            "verify",
            str(document),
            str(garbage),
            "--ocsp",
            "http://127.0.0.1:9/x",
            "--ca",
            str(ca),
        ],
    )
    assert malformed.exit_code == 2
    assert "JUKI-JPKI-001" in malformed.output


def test_command_line_sign_refuses_a_pin_on_the_command_line(tmp_path: Path) -> None:
    # A PIN typed as an argument stays in shell history and the process list.
    document = tmp_path / "申請書.txt"
    document.write_text("申請\n", encoding="utf-8")
    refused = CliRunner().invoke(
        cli_app, ["jpki", "sign", str(document), "--serial", "X", "--pin", PIN]
    )
    assert refused.exit_code == 2
    assert "--pin" in refused.output
    assert not (tmp_path / "申請書.txt.sig.json").exists()
