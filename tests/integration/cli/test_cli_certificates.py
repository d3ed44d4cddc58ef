"""``jukinet certificate issue`` and ``verify`` against the test's database (both backends)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jukinet.domain.operators import Role
from jukinet.services.context import ServiceContext
from tests.integration.cli.test_cli import run
from tests.support.card_counter import moved_in
from tests.support.factories import PASSWORD, make_actor

FONT = Path("/usr/share/fonts/truetype/ipamj/ipamjm.ttf")
pytestmark = pytest.mark.skipif(
    not FONT.exists(), reason="IPAmj Mincho is not installed (apt-get install fonts-ipamj-mincho)"
)


def test_issue_then_verify_then_an_edited_copy_fails(node: ServiceContext, tmp_path: Path) -> None:
    code = moved_in(node)
    make_actor(node, Role.CLERK, username="madoguchi")
    env = {
        "JUKINET_AUDIT_KEY_PATH": str(node.settings.audit_key_path),
        "JUKINET_OPERATOR": "madoguchi",
        "JUKINET_OPERATOR_PASSWORD": PASSWORD,
    }
    url = node.settings.database_url
    out = tmp_path / "copy.pdf"
    refused = run(
        "certificate", "issue", code, "--out", str(out), "--with", "photo", url=url, **env
    )
    assert refused.exit_code == 2, refused.output
    assert "JUKI-CERT-006" in refused.output
    assert not out.exists()

    issued = run(
        "certificate", "issue", code, "--out", str(out), "--with", "relationship", url=url, **env
    )
    assert issued.exit_code == 0, issued.output
    assert "住民票の写し" in issued.output
    assert out.read_bytes().startswith(b"%PDF")

    checked = run("certificate", "verify", str(out), url=url, **env)
    assert checked.exit_code == 0, checked.output
    assert "真正な証明書です" in checked.output

    edited = bytearray(out.read_bytes())
    edited[len(edited) // 2] ^= 0x01
    (tmp_path / "edited.pdf").write_bytes(bytes(edited))
    failed = run("certificate", "verify", str(tmp_path / "edited.pdf"), url=url, **env)
    assert failed.exit_code == 1, failed.output
    assert "cannot be confirmed" in failed.output
