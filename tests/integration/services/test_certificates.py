"""Certificates from the register (住民票の写し …) as signed PDFs, on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from jukinet.domain.certificates import CertificateKind, OptionalItems
from jukinet.domain.errors import Conflict, PermissionDenied
from jukinet.domain.operators import Actor, Role
from jukinet.domain.register import Relationship, Sex
from jukinet.services import register
from jukinet.services.certificates.issue import CertificateRequest, issue_certificate
from jukinet.services.certificates.render import qr_payload
from jukinet.services.certificates.verify import verify_code, verify_pdf
from jukinet.services.context import ServiceContext
from jukinet.storage.certificate_tables import IssuedCertificateRow
from jukinet.storage.tables import AccessLogRow, ResidentRow
from tests.support.factories import make_actor, move_in_household, person, with_pool

FONT = Path("/usr/share/fonts/truetype/ipamj/ipamjm.ttf")
pytestmark = pytest.mark.skipif(
    not FONT.exists(), reason="IPAmj Mincho is not installed (apt-get install fonts-ipamj-mincho)"
)


def _text(pdf: bytes, tmp_path: Path) -> str:
    """The PDF's text as poppler extracts it."""
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    )
    return result.stdout.decode("utf-8")


@pytest.fixture
def clerk(node: ServiceContext) -> Actor:
    with_pool(node)
    return make_actor(node)


def _family(node: ServiceContext, clerk: Actor) -> list[str]:
    result = move_in_household(
        node,
        clerk,
        person(family="髙橋", family_kana="タカハシ"),
        person(
            family="髙橋",
            given="花子",
            family_kana="タカハシ",
            given_kana="ハナコ",
            sex=Sex.FEMALE,
            relationship=Relationship.WIFE,
            birth_date=date(1982, 7, 7),
        ),
    )
    return [r.record.resident_code for r in result.records]


def test_household_copy_prints_exact_names_and_verifies(
    node: ServiceContext, clerk: Actor, tmp_path: Path
) -> None:
    head, _wife = _family(node, clerk)
    issued = issue_certificate(
        node,
        actor=clerk,
        request=CertificateRequest(head, household=True, items=OptionalItems(relationship=True)),
    )
    assert issued.pdf.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = "".join(_text(issued.pdf, tmp_path).split())
        assert "髙橋" in text
        assert "高橋" not in text
        assert "住民票の写し" in text
        assert "令和" in text
        assert "世帯主" in text
    # The resident code is printed only when asked for.
    assert head not in repr(issued.content)
    check = verify_pdf(node, issued.pdf, asked_by="test")
    assert check.genuine
    assert check.current
    assert check.content == issued.content
    with node.session_factory() as session:
        row = session.scalars(select(IssuedCertificateRow)).one()
    assert verify_code(node, qr_payload(row.serial, bytes(row.signature)), asked_by="t").genuine


def test_an_edited_pdf_fails_and_a_later_change_supersedes(
    node: ServiceContext, clerk: Actor
) -> None:
    head, _wife = _family(node, clerk)
    issued = issue_certificate(node, actor=clerk, request=CertificateRequest(head))
    # One byte changed in the page's drawing (an edited name or address changes many more).
    edited = bytearray(issued.pdf)
    edited[len(edited) // 2] ^= 0x01
    assert not verify_pdf(node, bytes(edited), asked_by="test").genuine
    household = issued.content  # what was printed stays as it was
    with node.uow() as uow:
        number = uow.residents.to_record(uow.residents.get_row(head)).household_number
    register.file_move_within(
        node,
        actor=clerk,
        household_number=number,
        address="東京都西東京市田無町四丁目5番6号",
        moved_on=date(2026, 11, 25),
        filed_on=date(2026, 11, 26),
    )
    check = verify_pdf(node, issued.pdf, asked_by="test")
    assert check.genuine
    assert not check.current
    assert check.content == household


def test_copy_of_a_removed_record_and_refusals_write_nothing(
    node: ServiceContext, clerk: Actor
) -> None:
    head, wife = _family(node, clerk)
    with node.session_factory() as session:
        logged = session.scalar(select(func.count()).select_from(AccessLogRow))
    with pytest.raises(Conflict) as refused:
        issue_certificate(
            node, actor=clerk, request=CertificateRequest(head, kind=CertificateKind.REMOVED_COPY)
        )
    assert refused.value.code == "JUKI-CERT-003"
    with pytest.raises(PermissionDenied):
        issue_certificate(
            node, actor=make_actor(node, Role.AUDITOR), request=CertificateRequest(head)
        )
    with node.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(IssuedCertificateRow)) == 0
        assert session.scalar(select(func.count()).select_from(AccessLogRow)) == logged
    register.file_death(
        node,
        actor=clerk,
        resident_code=wife,
        died_on=date(2026, 11, 25),
        filed_on=date(2026, 11, 26),
    )
    with pytest.raises(Conflict) as removed:
        issue_certificate(node, actor=clerk, request=CertificateRequest(wife))
    assert removed.value.code == "JUKI-CERT-004"
    issued = issue_certificate(
        node, actor=clerk, request=CertificateRequest(wife, kind=CertificateKind.REMOVED_COPY)
    )
    assert issued.content["title"] == "除票の写し"
    assert issued.content["persons"][0]["removal_reason"]


def test_a_character_the_font_lacks_is_refused_by_name(node: ServiceContext, clerk: Actor) -> None:
    # U+2A6D6 is a CJK Extension B ideograph IPAmj Mincho does not map (checked by the test).
    from jukinet.services.certificates.font import font_coverage

    covered, _ = font_coverage(FONT)
    missing = next(chr(p) for p in range(0x2A6D6, 0x2A6DF) if p not in covered)
    code = move_in_household(node, clerk, person(family="山田")).records[0]
    # The counter refuses such a name (no MJ identifier, JUKI-NAME-021): only a record kept from
    # before could hold one, so it is written straight into the row.
    with node.session_factory() as session, session.begin():
        session.execute(
            update(ResidentRow)
            .where(ResidentRow.resident_code == code.record.resident_code)
            .values(family_name="山" + missing)
        )
    with pytest.raises(Conflict) as refused:
        issue_certificate(node, actor=clerk, request=CertificateRequest(code.record.resident_code))
    assert refused.value.code == "JUKI-CERT-010"
    assert f"U+{ord(missing):04X}" in refused.value.message_en
    with node.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(IssuedCertificateRow)) == 0
