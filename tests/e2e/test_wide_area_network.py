"""Issue 14's 広域交付 on real node processes: a Nishitokyo resident with a card gets a
household copy at a Yokohama counter.

The request travels Yokohama → Kanagawa → centre → Tokyo → Nishitokyo and the signed answer
back, between node processes over mutual TLS; the PDF prints 髙橋 and 𠮷田 with their exact
glyphs, its QR code's text verifies at Yokohama, and an edited copy fails. Every node on the
way logged the request with the affair 広域交付.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from jukinet.domain.certificates import OptionalItems
from jukinet.domain.errors import Conflict
from jukinet.domain.operators import Role
from jukinet.domain.register import Relationship, Sex
from jukinet.domain.resident_card import CardForm, NetworkStatus
from jukinet.domain.wide_area import AFFAIR, Identification
from jukinet.runtime.cluster import Cluster
from jukinet.services.certificates.render import qr_payload
from jukinet.services.certificates.verify import verify_code, verify_pdf
from jukinet.services.certificates.wide_area import WideAreaRequest, issue_wide_area
from jukinet.services.context import ServiceContext
from jukinet.services.resident_card import counter
from jukinet.services.resident_card.inputs import CardApplication, CardIssue, IdDocument
from jukinet.services.resident_card.status import check_card_status
from jukinet.storage.certificate_tables import IssuedCertificateRow
from jukinet.storage.tables import AccessLogRow
from tests.integration.services.test_certificate_glyphs import FONT, assert_exact_glyphs
from tests.support.databases import running_cluster
from tests.support.factories import make_actor, move_in_household, person

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not FONT.exists(), reason="IPAmj Mincho is not installed"),
]

NISHITOKYO = "municipality:132292"
YOKOHAMA = "municipality:141003"
TOKYO = "prefecture:13"
KANAGAWA = "prefecture:14"
CENTRE = "national:jlis"
NODES = (CENTRE, TOKYO, KANAGAWA, NISHITOKYO, YOKOHAMA)
PIN = "1357"


@pytest.fixture
def cluster(tmp_path: Path, database_url: str) -> Iterator[Cluster]:
    """Five node processes on the backend of ``database_url``."""
    with running_cluster(tmp_path / "cluster", database_url, NODES) as built:
        yield built


def _valid_at(node: ServiceContext, serial: str) -> bool:
    try:
        status = check_card_status(node, serial=serial, asked_by="e2e").status
    except Conflict:
        return False
    return status is NetworkStatus.VALID


def _affair_count(node: ServiceContext) -> int:
    with node.session_factory() as session:
        return len(
            session.scalars(
                select(AccessLogRow.position).where(AccessLogRow.affair_code == AFFAIR)
            ).all()
        )


def test_household_copy_at_yokohama_for_a_nishitokyo_card_holder(
    cluster: Cluster, card_reader: Path, tmp_path: Path
) -> None:
    handles = {name: cluster.handle(name) for name in NODES}
    town, yokohama = handles[NISHITOKYO], handles[YOKOHAMA]
    try:
        result = move_in_household(
            town,
            make_actor(town),
            person(family="髙橋", family_kana="タカハシ"),
            person(
                family="𠮷田",
                given="花子",
                family_kana="ヨシダ",
                given_kana="ハナコ",
                sex=Sex.FEMALE,
                relationship=Relationship.WIFE,
                birth_date=date(1982, 7, 7),
            ),
        )
        code = result.records[0].record.resident_code
        issuer = make_actor(town, Role.CARD_ISSUER)
        serial = counter.apply_for_card(
            town, actor=issuer, application=CardApplication(code, CardForm.NAME_ONLY)
        ).serial
        counter.issue_card(
            town, actor=issuer, issue=CardIssue(serial, PIN, PIN, IdDocument.PASSPORT)
        )
        deadline = time.monotonic() + 60
        while not _valid_at(yokohama, serial):
            assert time.monotonic() < deadline, "the card's status did not reach the centre"
            time.sleep(0.2)

        issued = issue_wide_area(
            yokohama,
            actor=make_actor(yokohama),
            request=WideAreaRequest(
                Identification.CARD,
                household=True,
                items=OptionalItems(relationship=True),
                card_serial=serial,
                pin=PIN,
            ),
        )
        assert issued.serial.startswith("141003-")
        assert [p["relationship"] for p in issued.content["persons"]] == ["世帯主", "妻"]
        assert code not in repr(issued.content)
        assert_exact_glyphs(issued.pdf, tmp_path)
        with yokohama.session_factory() as session:
            row = session.scalars(
                select(IssuedCertificateRow).where(IssuedCertificateRow.serial == issued.serial)
            ).one()
        qr_text = qr_payload(row.serial, bytes(row.signature))
        assert verify_code(yokohama, qr_text, asked_by="e2e").genuine
        assert verify_pdf(yokohama, issued.pdf, asked_by="e2e").genuine
        edited = bytearray(issued.pdf)
        edited[len(edited) // 2] ^= 0x01
        assert not verify_pdf(yokohama, bytes(edited), asked_by="e2e").genuine
        for name in NODES:
            assert _affair_count(handles[name]) >= 1, name
    finally:
        for handle in handles.values():
            handle.engine.dispose()
