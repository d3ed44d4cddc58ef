"""``jukinet terminal init`` and ``enroll``: the terminal CA and a terminal's PKCS#12 file."""

from __future__ import annotations

import hashlib
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding, pkcs12
from sqlalchemy import select

from jukinet.services.context import ServiceContext
from jukinet.storage.tables import TerminalRow
from tests.integration.cli.accounts import ADMINISTRATOR, SECURITY_OFFICER, as_, ensure
from tests.integration.cli.test_cli import add_operator, run

P12_PASSWORD = "terminal-secret-1"


def test_init_then_enroll_a_terminal(
    node: ServiceContext, database_url: str, tmp_path: Path
) -> None:
    ensure(database_url, ADMINISTRATOR, SECURITY_OFFICER)
    add_operator(database_url, "clerk1")
    folder = {"JUKINET_TERMINAL_DIR": str(tmp_path / "terminals")}

    # The terminal CA: a system administrator's, once (unless replaced).
    refused = run("terminal", "init", url=database_url, **as_(SECURITY_OFFICER), **folder)
    assert refused.exit_code == 2
    assert "JUKI-AUTH-003" in refused.output
    made = run("terminal", "init", "--host", "madoguchi.example.jp", url=database_url,
               **as_(ADMINISTRATOR), **folder)  # fmt: skip
    assert made.exit_code == 0, made.output
    assert (tmp_path / "terminals" / "terminal-ca.crt").exists()
    again = run("terminal", "init", url=database_url, **as_(ADMINISTRATOR), **folder)
    assert again.exit_code == 2
    assert "--replace" in again.output
    replaced = run("terminal", "init", "--replace", url=database_url, **as_(ADMINISTRATOR),
                   **folder)  # fmt: skip
    assert replaced.exit_code == 0, replaced.output

    # A terminal's certificate: a security officer's; the password asked for twice.
    out = tmp_path / "madoguchi-01.p12"
    enroll = ("terminal", "enroll", "madoguchi-01", "--place", "1階窓口", "--purpose", "窓口業務",
              "--out", str(out))  # fmt: skip
    clerk = run(*enroll, url=database_url, input=f"{P12_PASSWORD}\n" * 2, **as_("clerk1"),
                **folder)  # fmt: skip
    assert clerk.exit_code == 2
    assert "JUKI-AUTH-003" in clerk.output
    assert not out.exists()
    enrolled = run(*enroll, url=database_url, input=f"{P12_PASSWORD}\n" * 2,
                   **as_(SECURITY_OFFICER), **folder)  # fmt: skip
    assert enrolled.exit_code == 0, enrolled.output
    assert out.stat().st_mode & 0o777 == 0o600
    key, certificate, _ = pkcs12.load_key_and_certificates(out.read_bytes(), P12_PASSWORD.encode())
    assert key is not None
    assert certificate is not None
    fingerprint = hashlib.sha256(certificate.public_bytes(Encoding.DER)).hexdigest()
    with node.uow() as uow:
        row = uow.session.scalars(
            select(TerminalRow).where(TerminalRow.name == "madoguchi-01")
        ).one()
    assert row.cert_fingerprint == fingerprint
    assert row.status == "active"
    flat = " ".join(enrolled.output.split())
    assert fingerprint in flat
    assert "terminal-ca.crt" in flat
    assert "Import" in flat

    # The same name twice, or a file already there, is refused.
    twice = run(*enroll[:-1], str(tmp_path / "other.p12"), url=database_url,
                input=f"{P12_PASSWORD}\n" * 2, **as_(SECURITY_OFFICER), **folder)  # fmt: skip
    assert twice.exit_code == 2
    assert "JUKI-TRM-002" in twice.output
    over = run(*enroll, url=database_url, input=f"{P12_PASSWORD}\n" * 2,
               **as_(SECURITY_OFFICER), **folder)  # fmt: skip
    assert over.exit_code == 2
    assert "already exists" in over.output
