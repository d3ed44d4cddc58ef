"""Refused settings on the command line and in the node runner: exit status 2, what to set in
Japanese and English, no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from jukinet.cli.main import app
from tests.integration.cli.accounts import administrator_env

#: The same cheap, wide, hermetic environment as the other CLI tests, minus the environment.
BASE = {
    "JUKINET_ARGON2_TIME_COST": "1",
    "JUKINET_ARGON2_MEMORY_COST": "8192",
    "JUKINET_OPERATOR": None,
    "JUKINET_OPERATOR_PASSWORD": None,
    "JUKINET_SECRET_KEY": None,
    "JUKINET_ENVIRONMENT": None,
    "COLUMNS": "200",
}
TYPO = "JUKINET_" + "DATABSE_URL"  # built, so the repository scan does not take it for a name


def run(*args: str, **env: str | None) -> Result:
    return CliRunner().invoke(app, list(args), env={**BASE, **env})


def assert_refused(result: Result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert "設定が正しくありません / invalid settings" in result.output
    flat = " ".join(result.output.split())
    for fragment in fragments:
        assert fragment in flat, result.output


def test_without_an_environment_the_cli_refuses_the_placeholder_secret(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    result = run("--database-url", url, "db", "upgrade")
    assert_refused(
        result,
        "JUKINET_SECRET_KEY",
        "JUKINET_ENVIRONMENT is not set",
        "set JUKINET_SECRET_KEY to a random value of at least 32 characters",
        "JUKINET_SECRET_KEY に32文字以上の乱数を設定してください",
        "JUKINET_ENVIRONMENT=dev",
    )
    assert not (tmp_path / "x.sqlite3").exists()  # refused before touching anything


def test_dev_accepts_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    result = run("--database-url", url, "db", "upgrade", JUKINET_ENVIRONMENT="dev")
    assert result.exit_code == 0, result.output


def test_an_unknown_variable_is_refused_by_name_before_any_command(tmp_path: Path) -> None:
    # `pki init` builds no settings; the variable is refused all the same.
    result = run("pki", "init", "--dir", str(tmp_path / "pki"), **{TYPO: "sqlite://"})
    assert_refused(
        result,
        f"unknown setting {TYPO} (did you mean JUKINET_DATABASE_URL?)",
        f"不明な設定 {TYPO}",
    )
    assert not (tmp_path / "pki").exists()


def test_a_variable_the_cli_reads_itself_is_accepted(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    result = run(
        "--database-url",
        url,
        "db",
        "upgrade",
        JUKINET_ENVIRONMENT="test",
        JUKINET_OPERATOR="clerk1",
        JUKINET_CA_PIN="1234",
    )
    assert result.exit_code == 0, result.output


def test_node_init_writes_only_what_the_node_sets_and_node_json_is_checked(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "node"
    pki = tmp_path / "pki"
    admin = administrator_env(tmp_path / "ca-node")
    assert run("pki", "init", "--dir", str(pki), "--node", "prefecture:13", **admin).exit_code == 0
    made = run(
        "node", "init", "--dir", str(folder), "--node", "prefecture:13", "--pki", str(pki),
        "--network-port", "8101", "--operator-port", "8001",
        "--peer", "national:jlis=https://127.0.0.1:8100",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    written = json.loads((folder / "node.json").read_text(encoding="utf-8"))
    assert set(written) == {
        "node", "network_port", "operator_port", "host", "tree_head_interval_seconds",
        "database_url", "pki_dir", "peers", "secret_key",
    }  # fmt: skip
    assert len(written["secret_key"]) >= 32
    # No environment written: production, which its random secret satisfies (a command that
    # needs no operator: in production every other one asks for the operator's card).
    status = run("audit", "verify", "--dir", str(folder))
    assert status.exit_code == 0, status.output

    written["participation"] = "sometimes"
    written["allow_opt_in"] = True
    (folder / "node.json").write_text(json.dumps(written), encoding="utf-8")
    refused = run("node", "serve", "--dir", str(folder))
    assert_refused(refused, "unknown key allow_opt_in in node.json")


def test_node_init_refuses_a_bad_environment(tmp_path: Path) -> None:
    result = run(
        "node", "init", "--dir", str(tmp_path / "n"), "--node", "prefecture:13",
        "--pki", str(tmp_path / "pki"), "--network-port", "1", "--operator-port", "2",
        "--environment", "staging",
    )  # fmt: skip
    assert_refused(result, "environment has an invalid value")
    assert not (tmp_path / "n" / "node.json").exists()


@pytest.mark.parametrize("content", [None, "{not json"])
def test_the_runner_refuses_a_bad_node_folder_without_a_traceback(
    tmp_path: Path, content: str | None
) -> None:
    if content is not None:
        (tmp_path / "node.json").write_text(content, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("JUKINET_")}
    src = Path(__file__).resolve().parents[3] / "src"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(src), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-m", "jukinet.runtime.runner", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "設定が正しくありません / invalid settings" in result.stderr
    assert "node.json" in result.stderr


def test_a_municipality_code_with_a_wrong_check_digit_is_refused_everywhere(
    tmp_path: Path,
) -> None:
    # 131016 is Chiyoda; 131017 has a wrong check digit and must never name a node.
    pki = tmp_path / "pki"
    admin = administrator_env(tmp_path / "ca-node")
    refused_pki = run("pki", "init", "--dir", str(pki), "--node", "municipality:131017", **admin)
    assert refused_pki.exit_code == 2
    assert "JUKI-MUNI-002" in refused_pki.output
    assert not pki.exists()  # nothing written: not even the CA
    made = run("pki", "init", "--dir", str(pki), "--node", "municipality:131016", **admin)
    assert made.exit_code == 0, made.output
    refused_node = run(
        "node", "init", "--dir", str(tmp_path / "n"), "--node", "municipality:131017",
        "--pki", str(pki), "--network-port", "18102", "--operator-port", "18002",
    )  # fmt: skip
    assert refused_node.exit_code == 2
    assert "JUKI-MUNI-002" in refused_node.output
    assert not (tmp_path / "n" / "node.json").exists()
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    refused_env = run(
        "--database-url", url, "db", "upgrade",
        JUKINET_ENVIRONMENT="dev", JUKINET_MUNICIPALITY_CODE="131017",
    )  # fmt: skip
    assert_refused(refused_env, "JUKINET_MUNICIPALITY_CODE", "check digit is wrong")
