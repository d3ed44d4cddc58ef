"""``jukinet certificate wide-area`` against the test's database (both backends): a node that is
not on the network says so and prints nothing; bad input is refused field by field.

The round trip itself is in tests/integration/network/test_wide_area*.py and the e2e test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from jukinet.domain.operators import Role
from jukinet.services.context import ServiceContext
from tests.integration.cli.test_cli import run
from tests.support.factories import PASSWORD, make_actor

FONT = Path("/usr/share/fonts/truetype/ipamj/ipamjm.ttf")
pytestmark = pytest.mark.skipif(not FONT.exists(), reason="IPAmj Mincho is not installed")


def test_refusals_print_nothing(node: ServiceContext, tmp_path: Path) -> None:
    make_actor(node, Role.CLERK, username="madoguchi")
    env = {
        "JUKINET_AUDIT_KEY_PATH": str(node.settings.audit_key_path),
        "JUKINET_OPERATOR": "madoguchi",
        "JUKINET_OPERATOR_PASSWORD": PASSWORD,
    }
    url = node.settings.database_url
    out = tmp_path / "copy.pdf"
    photo = ["--identification", "photo_id", "--home-municipality-code", "141003"]
    missing = run("certificate", "wide-area", "--out", str(out), *photo, url=url, **env)
    assert missing.exit_code == 2, missing.output
    assert "JUKI-WIDE-003" in missing.output  # the photo ID's kind
    assert "JUKI-WIDE-004" in missing.output or "name" in missing.output
    complete = [
        *photo,
        "--id-document", "passport", "--name", "髙橋 太郎", "--birth-date", "1980-04-01",
        "--address", "神奈川県横浜市中区港町一丁目1番地",
    ]  # fmt: skip
    offline = run("certificate", "wide-area", "--out", str(out), *complete, url=url, **env)
    assert offline.exit_code != 0, offline.output
    assert "JUKI-RELAY-001" in offline.output
    assert not out.exists()
