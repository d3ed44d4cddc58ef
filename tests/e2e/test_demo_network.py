"""``jukinet demo``: the README's main job brings up six node processes and a settled network."""

from __future__ import annotations

import random
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from jukinet.cli.main import app
from tests.conftest import POSTGRES_ADMIN_URL

pytestmark = pytest.mark.e2e


def test_demo_network_settles(tmp_path: Path, database_url: str) -> None:
    args = []
    template = None
    if not database_url.startswith("sqlite"):
        template = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/demo_{uuid.uuid4().hex[:8]}_{{node}}"
        args = ["--database-url", template]
    base_port = random.randrange(20_000, 40_000, 200)
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
        assert f"http://127.0.0.1:{base_port}/" in result.output
        for username in ("madoguchi", "kanri", "anzen"):
            assert username in result.output
        assert "西東京市 → 横浜市" in result.output
    finally:
        if template is not None:
            admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                prefix = template.rsplit("/", 1)[1].replace("{node}", "")
                names = (
                    conn.execute(
                        text("SELECT datname FROM pg_database WHERE datname LIKE :p"),
                        {"p": prefix + "%"},
                    )
                    .scalars()
                    .all()
                )
                for name in names:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


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
