"""``jukinet network deadlines``: checks the deadlines now and lists what is overdue, with a
non-zero exit while something is (for monitoring scripts). Both databases."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from jukinet.runtime.runner import NodeConfig
from jukinet.services.context import ServiceContext
from jukinet.storage.tables import OutboxRow
from jukinet.storage.trust_tables import SecurityAlertRow
from tests.integration.cli.accounts import SECURITY_OFFICER, as_, ensure
from tests.integration.cli.test_cli import run


def _folder(tmp_path: Path, url: str) -> str:
    folder = tmp_path / "node"
    NodeConfig(
        node="municipality:132292",
        network_port=1,
        operator_port=1,
        per_node={
            "database_url": url,
            "environment": "test",
            "secret_key": secrets.token_urlsafe(32),
            "peers": {"prefecture:13": "https://127.0.0.1:1"},
            "delivery_deadlines": {"card_status_notice": 900},
        },
    ).save(folder)
    return str(folder)


def test_network_deadlines(node: ServiceContext, database_url: str, tmp_path: Path) -> None:
    ensure(database_url, SECURITY_OFFICER)
    folder = _folder(tmp_path, database_url)
    quiet = run("network", "deadlines", "--dir", folder, **as_(SECURITY_OFFICER))
    assert quiet.exit_code == 0, quiet.output
    assert "card_status_notice 900 s" in quiet.output  # the node's own setting
    assert "identity_notice 3600 s" in quiet.output
    assert "nothing overdue" in quiet.output
    # A card status notice queued (the command runs on the real clock) 16 minutes ago.
    with node.session_factory() as session, session.begin():
        session.add(
            OutboxRow(
                kind="card_status_notice",
                recipient="prefecture:13",
                subject=None,
                body={},
                created_at=datetime.now(UTC) - timedelta(minutes=16),
            )
        )
    late = run("network", "deadlines", "--dir", folder, **as_(SECURITY_OFFICER))
    assert late.exit_code == 3, late.output
    assert "outbound" in late.output
    assert "prefecture:13" in late.output
    assert "open" in late.output
    with node.session_factory() as session:
        kinds = list(session.scalars(select(SecurityAlertRow.kind)))
    assert kinds == ["delivery_overdue"]
