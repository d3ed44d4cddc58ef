"""``jukinet audit …``, ``jukinet recipient …`` and ``jukinet affairs`` against both databases."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import update

from jukinet.domain.operators import Role
from jukinet.services import reading
from jukinet.services.context import ServiceContext
from jukinet.storage.tables import AccessLogRow
from tests.integration.cli.accounts import ADMINISTRATOR, AUDITOR, PASSWORD, as_, ensure
from tests.integration.cli.test_cli import run
from tests.support.factories import make_actor, move_in_household, person


def _env(node: ServiceContext, **extra: str) -> dict[str, str]:
    return {"JUKINET_AUDIT_KEY_PATH": str(node.settings.audit_key_path), **extra}


def test_disclose_check_verify_and_tamper(node: ServiceContext, tmp_path: Path) -> None:
    url = node.settings.database_url
    clerk = make_actor(node, username="clerk1")
    code = move_in_household(node, clerk, person()).records[0].record.resident_code
    reading.read_resident(node, actor=clerk, resident_code=code)

    ensure(url, AUDITOR, ADMINISTRATOR)
    head = run("audit", "head", url=url, **_env(node, **as_(AUDITOR)))
    assert head.exit_code == 0, head.output
    # The move-in, the read, and the auditor's command, logged under their name.
    assert json.loads(head.stdout)["tree_size"] == 3

    document_file = tmp_path / "doc.json"
    disclosed = run(
        "audit", "disclose", code, "--operator", "clerk1", "--out", str(document_file),
        url=url, **_env(node, JUKINET_OPERATOR_PASSWORD=PASSWORD),
    )  # fmt: skip
    assert disclosed.exit_code == 0, disclosed.output
    document = json.loads(document_file.read_text("utf-8"))
    assert [e["entry"]["action"] for e in document["entries"]] == ["write", "read", "read"]
    key_file = tmp_path / "node.pem"
    key_file.write_text(document["signer_public_key"], encoding="ascii")
    checked = run("audit", "check-proof", str(document_file), "--public-key", str(key_file))
    assert checked.exit_code == 0, checked.output
    assert "OK" in checked.output
    not_json = tmp_path / "x.json"
    not_json.write_text("{", encoding="utf-8")
    assert run("audit", "check-proof", str(not_json), "--public-key", str(key_file)).exit_code == 1

    disclosed_size = str(document["tree_head"]["tree_size"])
    consistent = run("audit", "consistency", "3", disclosed_size, url=url, **_env(node))
    assert consistent.exit_code == 0, consistent.output
    assert json.loads(consistent.stdout)["consistent"] is True

    assert run("audit", "verify", url=url, **_env(node)).exit_code == 0
    with node.uow() as uow:
        uow.session.execute(
            update(AccessLogRow).where(AccessLogRow.position == 1).values(reason="nothing")
        )
        uow.commit()
    tampered = run("audit", "verify", url=url, **_env(node))
    assert tampered.exit_code == 1
    assert "first bad entry: 1" in tampered.output
    retention = run("audit", "retention", url=url, **_env(node, **as_(ADMINISTRATOR)))
    assert "left to delete" in retention.output
    assert run("audit", "retention", url=url, **_env(node, **as_(AUDITOR))).exit_code == 2


def test_alerts_need_the_audit_permission(node: ServiceContext) -> None:
    url = node.settings.database_url
    make_actor(node, Role.SECURITY_OFFICER, username="anzen1")
    make_actor(node, Role.CLERK, username="clerk2")
    ok = run("audit", "alerts", "--operator", "anzen1", url=url, JUKINET_OPERATOR_PASSWORD=PASSWORD)
    assert ok.exit_code == 0, ok.output
    assert "no signals" in ok.output
    refused = run(
        "audit", "alerts", "--operator", "clerk2", url=url, JUKINET_OPERATOR_PASSWORD=PASSWORD
    )
    assert refused.exit_code == 2
    assert "JUKI-AUTH-003" in refused.output


def test_recipient_registry_commands(node: ServiceContext) -> None:
    url = node.settings.database_url
    make_actor(node, Role.SUPERVISOR, username="kanri1")
    make_actor(node, Role.CLERK, username="clerk3")
    signed = {"JUKINET_OPERATOR_PASSWORD": PASSWORD}
    added = run(
        "recipient", "add", "agency:test-denpa", "--name", "総務省（電波）",
        "--kind", "national_body", "--body", "総務省", "--operator", "kanri1", url=url, **signed,
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    grant = ("recipient", "grant", "agency:test-denpa", "T1-26", "--decision", "総行住第42号")
    # Who decides is a signed-in official with the right to manage recipients, never free text.
    assert run(*grant, "--operator", "総務大臣", url=url, **signed).exit_code != 0
    clerk = run(*grant, "--operator", "clerk3", url=url, **signed)
    assert clerk.exit_code == 2
    assert "JUKI-AUTH-003" in clerk.output
    granted = run(*grant, "--operator", "kanri1", url=url, **signed)
    assert granted.exit_code == 0, granted.output
    assert "別表第一の二十六の項" in granted.output
    again = run(*grant, "--operator", "kanri1", url=url, **signed)
    assert again.exit_code == 2
    assert "JUKI-AFF-018" in again.output
    wrong_table = run(
        "recipient", "grant", "agency:test-denpa", "T5-6", "--decision", "x",
        "--operator", "kanri1", url=url, **signed,
    )  # fmt: skip
    assert wrong_table.exit_code == 2
    wrong_body = run(
        "recipient", "grant", "agency:test-denpa", "T1-97", "--decision", "x",
        "--operator", "kanri1", url=url, **signed,
    )  # fmt: skip
    assert wrong_body.exit_code == 2
    assert "JUKI-AFF-017" in wrong_body.output
    listed = run("recipient", "list", "--operator", "kanri1", url=url, **signed)
    assert "T1-26" in listed.output
    history = run(
        "recipient", "history", "agency:test-denpa", "--operator", "kanri1", url=url, **signed
    )
    assert "kanri1" in history.output
    assert "総行住第42号" in history.output
    assert "T1-97" not in history.output
    revoked = run(
        "recipient", "revoke", "agency:test-denpa", "T1-26", "--decision", "総行住第43号",
        "--operator", "kanri1", url=url, **signed,
    )  # fmt: skip
    assert revoked.exit_code == 0, revoked.output
    listed = run("recipient", "list", "--operator", "kanri1", url=url, **signed)
    assert "T1-26" not in listed.output.split("agency:test-denpa")[1]
    assert run("recipient", "list", "--operator", "clerk3", url=url, **signed).exit_code == 2
    assert "T5-6" in run("affairs", "--table", "5").output


def test_init_key_creates_the_key_once_apart_from_the_database(
    node: ServiceContext, tmp_path: Path
) -> None:
    url = node.settings.database_url
    key = tmp_path / "keys-elsewhere" / "log.pem"
    ensure(url, AUDITOR, ADMINISTRATOR)
    env = {"JUKINET_AUDIT_KEY_PATH": str(key), **as_(ADMINISTRATOR)}
    auditor = {"JUKINET_AUDIT_KEY_PATH": str(key), **as_(AUDITOR)}
    refused = run("audit", "head", url=url, **auditor)
    assert refused.exit_code == 2
    assert "jukinet audit init-key" in refused.output
    assert not key.exists()  # never made up on the fly

    created = run("audit", "init-key", url=url, **env)
    assert created.exit_code == 0, created.output
    assert "BEGIN PUBLIC KEY" in created.stdout
    assert key.stat().st_mode & 0o777 == 0o600
    assert key.parent.stat().st_mode & 0o777 == 0o700
    before = key.read_bytes()
    again = run("audit", "init-key", url=url, **env)
    assert again.exit_code == 2
    assert "already exists" in again.output
    assert key.read_bytes() == before

    assert run("audit", "head", url=url, **auditor).exit_code == 0
    assert key.with_suffix(".latest-head.json").exists()  # the record beside the key

    if url.startswith("sqlite"):  # a key in the database's own folder is refused
        beside = Path(url.removeprefix("sqlite:///")).parent / "audit.pem"
        near = run("audit", "init-key", url=url, **{**env, "JUKINET_AUDIT_KEY_PATH": str(beside)})
        assert near.exit_code == 2
        assert "folder of its own" in " ".join(near.output.split())  # the terminal wraps it
        assert not beside.exists()


def test_a_recipient_registered_before_bodies_were_kept_gets_its_body_named(
    node: ServiceContext,
) -> None:
    url = node.settings.database_url
    make_actor(node, Role.SUPERVISOR, username="kanri2")
    signed = {"JUKINET_OPERATOR_PASSWORD": PASSWORD}
    add = (
        "recipient", "add", "agency:old-denpa", "--name", "総務省（電波）",
        "--kind", "national_body", "--operator", "kanri2",
    )  # fmt: skip
    assert run(*add, url=url, **signed).exit_code == 0
    grant = ("recipient", "grant", "agency:old-denpa", "T1-26", "--decision", "総行住第44号")
    refused = run(*grant, "--operator", "kanri2", url=url, **signed)
    assert refused.exit_code == 2
    assert "JUKI-AFF-017" in refused.output
    named = run(*add, "--body", "総務省", url=url, **signed)
    assert named.exit_code == 0, named.output
    granted = run(*grant, "--operator", "kanri2", url=url, **signed)
    assert granted.exit_code == 0, granted.output


def test_publish_and_witnessed_on_a_node_off_the_network(node: ServiceContext) -> None:
    """A stand-alone node has no witnesses: publishing signs its head and says so."""
    url = node.settings.database_url
    ensure(url, AUDITOR, ADMINISTRATOR)
    published = run("audit", "publish", url=url, **_env(node, **as_(AUDITOR)))
    assert published.exit_code == 0, published.output
    assert "this node has no witnesses" in published.output
    witnessed = run("audit", "witnessed", url=url, **_env(node, **as_(ADMINISTRATOR)))
    assert witnessed.exit_code == 0, witnessed.output
    assert "no witnessed heads" in witnessed.output
