"""Issue 13's end-to-end path on real node processes with SoftHSM cards.

A card is issued at Nishitokyo and locks at the third wrong PIN (reset in person). Its signature
certificate, issued by Tokyo's CA over the network, signs a file that `jukinet jpki verify`
accepts against Tokyo's public OCSP responder — until the resident's address change reaches
Tokyo and OCSP answers "revoked". An ordinance service at Nishitokyo receives its own identifier,
never the resident code. A phone report suspends the card and a Yokohama terminal refuses it
within seconds — the status travelling Nishitokyo → Tokyo → centre and the check Yokohama →
Kanagawa → centre between node processes over mutual TLS.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from jukinet.cli.main import app as cli_app
from jukinet.domain.errors import AuthenticationFailed, Conflict
from jukinet.domain.operators import Actor, Role
from jukinet.domain.resident_card import CardForm, NetworkStatus
from jukinet.network import resident_card_token as chip
from jukinet.runtime.cluster import Cluster
from jukinet.services import register
from jukinet.services.card_services.enrolment import enrol
from jukinet.services.card_services.inputs import Enrolment, NewCardService
from jukinet.services.card_services.registry import add_service
from jukinet.services.card_services.terminal import use_service_with_pin
from jukinet.services.context import ServiceContext
from jukinet.services.jpki.issue import request_signature_certificate
from jukinet.services.resident_card import counter, terminal
from jukinet.services.resident_card.inputs import (
    CallerRelation,
    CardApplication,
    CardIssue,
    IdDocument,
    LossReport,
    PinReset,
)
from jukinet.services.resident_card.status import check_card_status
from jukinet.storage.card_tables import ResidentCardRow
from tests.support.databases import running_cluster
from tests.support.factories import make_actor, move_in_household, person

pytestmark = pytest.mark.e2e

NISHITOKYO = "municipality:132292"
YOKOHAMA = "municipality:141003"
TOKYO = "prefecture:13"
KANAGAWA = "prefecture:14"
CENTRE = "national:jlis"
NODES = (CENTRE, TOKYO, KANAGAWA, NISHITOKYO, YOKOHAMA)
PIN = "2580"


@pytest.fixture
def cluster(tmp_path: Path, database_url: str) -> Iterator[Cluster]:
    """Five node processes on the backend of ``database_url``."""
    with running_cluster(tmp_path / "cluster", database_url, NODES) as built:
        yield built


def _wait(condition: Callable[[], bool], *, timeout: float, what: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _status_at(node: ServiceContext, serial: str) -> NetworkStatus | None:
    try:
        return check_card_status(node, serial=serial, asked_by="e2e-kiosk").status
    except Conflict:
        return None


def _open_at_counter(node: ServiceContext, serial: str, pin: str) -> None:
    with terminal.open_chip(node, serial=serial, pin=pin, place="counter-1"):
        pass


def _sign(node: ServiceContext, serial: str, pin: str) -> tuple[str, bytes]:
    challenge = terminal.new_challenge(node)
    with chip.ResidentCardToken.open(serial, pin) as card:
        return challenge.challenge_id, card.authenticate(challenge.message)


def _signature_revoked_by_an_address_change(
    cluster: Cluster, town: ServiceContext, issuer: Actor, serial: str, folder: Path
) -> None:
    request_signature_certificate(town, actor=issuer, serial=serial, pin=PIN)
    document = folder / "申請書.txt"
    document.write_text("転出届（特例）\n", encoding="utf-8")
    runner = CliRunner()
    signed = runner.invoke(
        cli_app,
        ["jpki", "sign", str(document), "--serial", serial, "--pin-from-stdin"],
        input=PIN + "\n",
    )
    assert signed.exit_code == 0, signed.output
    public = cluster.nodes[TOKYO].public_url
    assert public is not None
    verify = [
        "jpki", "verify", str(document), str(folder / "申請書.txt.sig.json"),
        "--ocsp", f"{public}/jpki/v1/13/ocsp",
    ]  # fmt: skip
    valid = runner.invoke(cli_app, verify)
    assert valid.exit_code == 0, valid.output
    with town.uow() as uow:
        household = uow.residents.to_record(
            uow.residents.get_row(_code_of(town, serial))
        ).household_number
    register.file_move_within(
        town,
        actor=make_actor(town),
        household_number=household,
        address="東京都西東京市田無町四丁目5番6号",
        moved_on=town.today(),
        filed_on=town.today(),
    )
    took = _wait(
        lambda: runner.invoke(cli_app, verify).exit_code == 1,
        timeout=60,
        what="OCSP to answer revoked after the address change",
    )
    assert took < 60
    revoked = runner.invoke(cli_app, verify)
    assert "revoked at" in revoked.output, revoked.output


def _code_of(town: ServiceContext, serial: str) -> str:
    with town.session_factory() as session:
        return str(
            session.scalars(
                select(ResidentCardRow.resident_code).where(ResidentCardRow.serial == serial)
            ).one()
        )


def _ordinance_service_gets_its_own_identifier(
    town: ServiceContext, serial: str, code: str
) -> None:
    supervisor = make_actor(town, Role.SUPERVISOR)
    add_service(
        town,
        actor=supervisor,
        service=NewCardService(
            code="library",
            name_ja="図書館",
            name_en="Library",
            ordinance_name="西東京市住民基本台帳カードの利用に関する条例",
            enacted_on=date(2003, 3, 20),
        ),
    )
    enrolled = enrol(town, actor=supervisor, enrolment=Enrolment(code, "library"))
    used = use_service_with_pin(town, code="library", serial=serial, pin=PIN, place="lib-1")
    assert used.service_identifier == enrolled.service_identifier
    assert code not in used.service_identifier
    assert code not in repr(used)


def test_card_issued_locked_suspended_and_refused_elsewhere(
    cluster: Cluster, card_reader: Path, tmp_path: Path
) -> None:
    town = cluster.handle(NISHITOKYO)
    yokohama = cluster.handle(YOKOHAMA)
    try:
        code = move_in_household(town, make_actor(town), person()).records[0].record.resident_code
        issuer = make_actor(town, Role.CARD_ISSUER)
        serial = counter.apply_for_card(
            town, actor=issuer, application=CardApplication(code, CardForm.NAME_ONLY)
        ).serial
        counter.issue_card(
            town, actor=issuer, issue=CardIssue(serial, PIN, PIN, IdDocument.DRIVERS_LICENCE)
        )

        # Three wrong PINs at Nishitokyo's counter: locked, on the chip and in the register.
        for _ in range(3):
            with pytest.raises(AuthenticationFailed):
                _open_at_counter(town, serial, "0000")
        with pytest.raises(Conflict) as locked:
            _open_at_counter(town, serial, PIN)
        assert locked.value.code == "JUKI-CARD-014"
        counter.reset_pin(
            town, actor=issuer, reset=PinReset(serial, PIN, PIN, IdDocument.DRIVERS_LICENCE)
        )

        # The card's status reaches the centre; Yokohama's terminal accepts the card.
        _wait(
            lambda: _status_at(yokohama, serial) is NetworkStatus.VALID,
            timeout=60,
            what="the card's status to reach the centre",
        )
        challenge_id, signature = _sign(yokohama, serial, PIN)
        accepted = terminal.authenticate_card(
            yokohama, serial=serial, challenge_id=challenge_id, signature=signature, place="y-1"
        )
        assert accepted.municipality_code == "132292"
        assert accepted.resident_code is None

        # The card's status followed the resident's move-in notice up the same ordered link:
        # Tokyo now holds the identity its CA checks a certificate request against.
        _signature_revoked_by_an_address_change(cluster, town, issuer, serial, tmp_path)
        _ordinance_service_gets_its_own_identifier(town, serial, code)

        # A phone call at Nishitokyo; within seconds Yokohama refuses the card.
        counter.report_loss(
            town,
            actor=make_actor(town),
            report=LossReport(serial, "山田 太郎", CallerRelation.SELF, ("name", "birth_date")),
        )
        took = _wait(
            lambda: _status_at(yokohama, serial) is NetworkStatus.SUSPENDED,
            timeout=30,
            what="the suspension to reach Yokohama's checks",
        )
        assert took < 10
        challenge_id, signature = _sign(yokohama, serial, PIN)
        with pytest.raises(Conflict) as refused:
            terminal.authenticate_card(
                yokohama,
                serial=serial,
                challenge_id=challenge_id,
                signature=signature,
                place="y-1",
            )
        assert refused.value.code == "JUKI-CARD-011"
    finally:
        town.engine.dispose()
        yokohama.engine.dispose()
