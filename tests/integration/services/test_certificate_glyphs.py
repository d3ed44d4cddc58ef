"""The certificate prints 髙橋 and 𠮷田 (U+20BB7) with their exact glyphs, on both databases.

Checked three ways: the text extracted from the PDF (pdftotext) has the exact characters; the
PDF embeds only the certificate font (no fallback font drew anything); and the page rendered to
PNG (pdftoppm) shows, where 𠮷 and 髙 stand, the shapes the font itself draws for them — not 吉
or 高, and not a blank or a box.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from jukinet.domain.certificates import OptionalItems
from jukinet.domain.register import Relationship, Sex
from jukinet.services.certificates.issue import CertificateRequest, issue_certificate
from jukinet.services.context import ServiceContext
from tests.support.factories import make_actor, move_in_household, person, with_pool
from tests.support.glyphs import difference, font_glyph, pdf_glyph

FONT = Path("/usr/share/fonts/truetype/ipamj/ipamjm.ttf")
pytestmark = [
    pytest.mark.skipif(not FONT.exists(), reason="IPAmj Mincho is not installed"),
    pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils is not installed"),
]


def assert_exact_glyphs(pdf: bytes, folder: Path) -> None:
    """The checks of this module on one certificate PDF (also used by the e2e test)."""
    path = folder / "certificate.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    ).stdout.decode("utf-8")
    assert "髙橋" in text
    assert "𠮷田" in text
    assert "高橋" not in text
    assert "吉田" not in text
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True).stdout
    rows = fonts.decode("utf-8").splitlines()[2:]
    assert rows, "no font embedded"
    # WeasyPrint names the embedded font after the @font-face family: one family, embedded.
    assert {row.split()[0].split("+")[-1] for row in rows} == {"Certificate"}, rows
    assert all(" yes yes yes " in f" {' '.join(row.split()[-5:])} " for row in rows), rows
    for char, substitute in (("𠮷", "吉"), ("髙", "高")):
        printed = pdf_glyph(path, char)
        own = difference(printed, font_glyph(char, FONT))
        other = difference(printed, font_glyph(substitute, FONT))
        blank = difference(printed, font_glyph("\u3000", FONT))
        assert own < 0.08, (char, own)
        assert own * 2 < other, (char, own, other)
        assert own * 4 < blank, (char, own, blank)


def test_takahashi_and_yoshida_print_with_their_exact_glyphs(
    node: ServiceContext, tmp_path: Path
) -> None:
    with_pool(node)
    clerk = make_actor(node)
    result = move_in_household(
        node,
        clerk,
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
    head = result.records[0].record.resident_code
    issued = issue_certificate(
        node,
        actor=clerk,
        request=CertificateRequest(head, household=True, items=OptionalItems(relationship=True)),
    )
    assert_exact_glyphs(issued.pdf, tmp_path)
