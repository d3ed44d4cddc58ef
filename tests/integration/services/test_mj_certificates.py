"""Certificates print the MJ identifier beside a name with characters outside JIS X 0213
(issue 14 item 5), on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from jukinet.domain.operators import Actor
from jukinet.domain.register import Relationship, Sex
from jukinet.services.certificates.issue import CertificateRequest, issue_certificate
from jukinet.services.context import ServiceContext
from tests.support.factories import make_actor, move_in_household, person, with_pool

FONT = Path("/usr/share/fonts/truetype/ipamj/ipamjm.ttf")
pytestmark = pytest.mark.skipif(
    not FONT.exists(), reason="IPAmj Mincho is not installed (apt-get install fonts-ipamj-mincho)"
)
TSUCHIYOSHI = "\U00020bb7"  # 𠮷


@pytest.fixture
def clerk(node: ServiceContext) -> Actor:
    with_pool(node)
    return make_actor(node)


def test_the_copy_prints_each_glyphs_mj_identifier_beside_the_name(
    node: ServiceContext, clerk: Actor, tmp_path: Path
) -> None:
    result = move_in_household(
        node,
        clerk,
        person(family=f"{TSUCHIYOSHI}田", family_kana="ヨシダ"),
        person(
            family="髙橋",
            given="花子",
            family_kana="タカハシ",
            given_kana="ハナコ",
            sex=Sex.FEMALE,
            relationship=Relationship.COHABITANT,
        ),
    )
    head = result.records[0].record.resident_code
    issued = issue_certificate(node, actor=clerk, request=CertificateRequest(head, household=True))
    persons = issued.content["persons"]
    assert [p.get("name_mj") for p in persons] == [f"{TSUCHIYOSHI} MJ032129", "髙 MJ028902"]
    if shutil.which("pdftotext"):
        path = tmp_path / "copy.pdf"
        path.write_bytes(issued.pdf)
        text = subprocess.run(
            ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
        ).stdout.decode("utf-8")
        flat = "".join(text.split())
        assert f"{TSUCHIYOSHI}田" in flat
        assert "MJ032129" in flat
        assert "MJ028902" in flat
        assert "吉田" not in flat  # never a substitute glyph


def test_a_name_within_jis_x_0213_prints_no_identifier(node: ServiceContext, clerk: Actor) -> None:
    code = move_in_household(node, clerk, person()).records[0].record.resident_code
    issued = issue_certificate(node, actor=clerk, request=CertificateRequest(code))
    assert "name_mj" not in issued.content["persons"][0]
