"""``jukinet recipient officer-card-lend`` / ``officer-card-lost`` against both databases: a
supervisor lends an officer their card (a security key's credential id and P-256 public key),
a bad key is a clear error that stores nothing, a lost card is revoked and ends the officer's
sessions."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from sqlalchemy import func, select
from webauthn.helpers import bytes_to_base64url

from jukinet.domain.operators import Role
from jukinet.services import agency_console
from jukinet.services.context import ServiceContext
from jukinet.storage.agency_tables import AgencyOfficerCardRow, AgencySessionRow
from jukinet.storage.registry import RegistryCache
from tests.integration.cli.accounts import PASSWORD
from tests.integration.cli.test_cli import run
from tests.support.cards import SoftAuthenticator
from tests.support.factories import make_actor

AGENCY = "agency:test-onkyu"
OFFICER_PASSWORD = "officer-password-long"  # a throw-away test account


def _count(node: ServiceContext, table: type) -> int:
    with node.read_session() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_lend_refuse_a_bad_key_and_revoke_a_lost_card(node: ServiceContext, tmp_path: Path) -> None:
    url = node.settings.database_url
    make_actor(node, Role.SUPERVISOR, username="kanri1")
    signed = {"JUKINET_OPERATOR_PASSWORD": PASSWORD}
    added = run(
        "recipient", "add", AGENCY, "--name", "総務省（恩給）",
        "--kind", "national_body", "--body", "総務省", "--operator", "kanri1", url=url, **signed,
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    agency_console.add_officer(
        node,
        RegistryCache(),
        recipient_id=AGENCY,
        login="onkyu.tanaka",
        display_name="田中 恩給",
        password=OFFICER_PASSWORD,
    )
    card = SoftAuthenticator()
    pem = tmp_path / "card.pem"
    pem.write_bytes(
        card.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    lend = (
        "recipient", "officer-card-lend", AGENCY, "onkyu.tanaka", "--serial", "OC-0001",
        "--credential-id", bytes_to_base64url(card.credential_id),
    )  # fmt: skip
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key\n")
    refused = run(*lend, "--public-key", str(bad), "--operator", "kanri1", url=url, **signed)
    assert refused.exit_code == 2
    assert "JUKI-AGC-030" in refused.output
    assert _count(node, AgencyOfficerCardRow) == 0
    lent = run(*lend, "--public-key", str(pem), "--operator", "kanri1", url=url, **signed)
    assert lent.exit_code == 0, lent.output
    assert "OC-0001" in lent.output
    again = run(*lend, "--public-key", str(pem), "--operator", "kanri1", url=url, **signed)
    assert again.exit_code == 2
    assert "JUKI-AGC-027" in again.output

    agency_console.sign_in(
        node, recipient_id=AGENCY, login="onkyu.tanaka", password=OFFICER_PASSWORD
    )
    assert _count(node, AgencySessionRow) == 1
    lost = run(
        "recipient", "officer-card-lost", "OC-0001", "--note", "電車内で紛失",
        "--operator", "kanri1", url=url, **signed,
    )  # fmt: skip
    assert lost.exit_code == 0, lost.output
    assert _count(node, AgencySessionRow) == 0  # the officer's sessions ended
    with node.read_session() as session:
        assert session.scalar(select(AgencyOfficerCardRow.status)) == "lost"
    twice = run(
        "recipient", "officer-card-lost", "OC-0001", "--operator", "kanri1", url=url, **signed
    )
    assert twice.exit_code == 2
    assert "JUKI-AGC-029" in twice.output
