"""``jukinet demo``: the README's main job brings up six node processes and a settled network."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from jukinet.cli.main import app
from tests.support.databases import demo_template, drop_template_databases
from tests.support.ports import base_port as block_base_port

pytestmark = pytest.mark.e2e


def test_demo_network_settles(tmp_path: Path, database_url: str) -> None:
    template = demo_template(database_url)
    args = [] if template is None else ["--database-url", template]
    base_port = block_base_port()
    result = CliRunner().invoke(
        app,
        [
            *args,
            "demo",
            "--residents",
            "300",
            "--no-serve",
            "--data-dir",
            str(tmp_path / "demo"),
            "--base-port",
            str(base_port),
        ],
    )
    try:
        assert result.exit_code == 0, result.output
        assert "delivered everywhere" in result.output
        assert f"http://localhost:{base_port}/" in result.output
        for username in ("madoguchi", "kanri", "anzen"):
            assert username in result.output
        assert "西東京市 → 横浜市" in result.output
        assert "opted out of upstream notification" in result.output  # Yokohama's choice
        assert "JUKI-AFF-001" in result.output  # the demo's refused agency query
        assert "/transparency" in result.output
    finally:
        drop_template_databases(template)


def test_demo_refuses_a_database_url_without_a_node_placeholder(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "--database-url",
            "sqlite:///x.db",
            "demo",
            "--no-serve",
            "--data-dir",
            str(tmp_path / "demo"),
        ],
    )
    assert result.exit_code == 2
    assert "{node}" in result.output
