"""``jukinet pki crl``: republishing the revocation list by hand, where the CA's key is."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from typer.testing import CliRunner, Result

from jukinet.cli.main import app
from jukinet.network.pki import NetworkPki
from tests.integration.cli.accounts import (
    PASSWORD,
    SUPERVISOR,
    bootstrap_args,
    bootstrap_input,
    ensure,
)

ENV = {
    "JUKINET_ENVIRONMENT": "test",
    "JUKINET_CA_PIN": None,
    "COLUMNS": "200",
    "JUKINET_ARGON2_TIME_COST": "1",
    "JUKINET_ARGON2_MEMORY_COST": "8192",
    "JUKINET_OPERATOR": "admin0",
    "JUKINET_OPERATOR_PASSWORD": PASSWORD,
}


@pytest.fixture(autouse=True)
def _administrator(tmp_path: Path) -> None:
    # PKI work is a system administrator's, signed in at the node whose server keeps the CA.
    ENV["JUKINET_DATABASE_URL"] = f"sqlite:///{tmp_path / 'ca-node.sqlite3'}"
    assert run("db", "upgrade").exit_code == 0
    made = run(*bootstrap_args(), input=bootstrap_input())
    assert made.exit_code == 0, made.output


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env=ENV, input=input)


def test_the_ca_republishes_by_hand_keeping_its_revocations(tmp_path: Path) -> None:
    folder = tmp_path / "pki"
    assert run("pki", "init", "--dir", str(folder), "--node", "prefecture:13").exit_code == 0
    assert run("pki", "revoke", "--pki", str(folder), "prefecture:13").exit_code == 0
    pki = NetworkPki(folder)
    before = pki.crl()
    # A list written just now is not due: nothing is signed.
    current = run("pki", "crl", "--pki", str(folder))
    assert current.exit_code == 0, current.output
    assert "still current" in current.output
    assert pki.crl().public_bytes(Encoding.PEM) == before.public_bytes(Encoding.PEM)
    forced = run("pki", "crl", "--pki", str(folder), "--force")
    assert forced.exit_code == 0, forced.output
    assert "republished" in forced.output
    after = pki.crl()
    assert after.last_update_utc > before.last_update_utc
    revoked = x509.load_pem_x509_certificate(pki.node("prefecture:13").tls_cert.read_bytes())
    assert after.get_revoked_certificate_by_serial_number(revoked.serial_number) is not None


def test_a_node_copy_of_the_pki_without_the_key_cannot_republish(tmp_path: Path) -> None:
    folder = tmp_path / "pki"
    assert run("pki", "init", "--dir", str(folder)).exit_code == 0
    (folder / "ca.key").unlink()
    refused = run("pki", "crl", "--pki", str(folder))
    assert refused.exit_code != 0
    assert "neither ca.key nor ca.pkcs11.json" in " ".join(refused.output.split())


def test_pki_commands_are_for_system_administrators(tmp_path: Path) -> None:
    folder = tmp_path / "pki"
    assert run("pki", "init", "--dir", str(folder)).exit_code == 0
    ensure(ENV["JUKINET_DATABASE_URL"] or "", SUPERVISOR)
    refused = CliRunner().invoke(
        app,
        ["pki", "crl", "--pki", str(folder), "--force"],
        env={**ENV, "JUKINET_OPERATOR": SUPERVISOR},
    )
    assert refused.exit_code == 2
    assert "JUKI-AUTH-003" in refused.output
    nobody = CliRunner().invoke(
        app, ["pki", "issue", "--pki", str(folder), "prefecture:14"],
        env={**ENV, "JUKINET_OPERATOR": None},
    )  # fmt: skip
    assert nobody.exit_code == 2
    assert "--operator" in nobody.output
    assert not (folder / "nodes" / "prefecture:14").exists()
