"""Settings fail closed; unknown ``JUKINET_*`` variables are refused by name; node.json has one
source (the Settings fields it sets, validated by Settings)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pydantic
import pytest

from jukinet.config import (
    CA_PIN_VARIABLE,
    DEV_SECRET,
    OPERATOR_PASSWORD_VARIABLE,
    OPERATOR_VARIABLE,
    OTHER_VARIABLES,
    Settings,
    SettingsError,
    known_variables,
    load_settings,
    unknown_variables,
)
from jukinet.runtime.runner import PER_NODE_SETTINGS, RUNTIME_KEYS, NodeConfig

ROOT = Path(__file__).resolve().parents[2]
GOOD_SECRET = "Yq3v8JzR0pWc5mTn2LhXa9KdE4sGb7Uf"  # 32 random-looking characters
#: A misspelt setting, built so that the repository scan below does not see it as a name.
TYPO = "JUKINET_" + "DATABSE_URL"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ``JUKINET_*`` variable from the caller's shell."""
    for name in list(os.environ):
        if name.upper().startswith("JUKINET_"):
            monkeypatch.delenv(name)


def _problem(error: pytest.ExceptionInfo[SettingsError], setting: str) -> tuple[str, str]:
    found = [p for p in error.value.problems if p.setting == setting]
    assert found, error.value.problems
    return found[0].ja, found[0].en


# -- fail closed --------------------------------------------------------------------------------


def test_the_default_environment_is_production_and_refuses_the_placeholder_secret() -> None:
    with pytest.raises(SettingsError) as error:
        load_settings()
    ja, en = _problem(error, "JUKINET_SECRET_KEY")
    assert "JUKINET_ENVIRONMENT is not set" in en
    assert "set JUKINET_SECRET_KEY to a random value of at least 32 characters" in en
    assert "JUKINET_ENVIRONMENT=dev" in en
    assert "JUKINET_SECRET_KEY に32文字以上の乱数を設定してください" in ja
    assert "JUKINET_ENVIRONMENT=dev" in ja


def test_settings_built_directly_refuse_too() -> None:
    with pytest.raises(pydantic.ValidationError, match="JUKINET_SECRET_KEY"):
        Settings()


@pytest.mark.parametrize(
    ("secret", "why"),
    [
        (DEV_SECRET, "is not set"),
        ("too-short-for-a-key", "too short (19 characters)"),
        ("please-change-me-before-going-live-0000", "placeholder"),
        ("ab" * 20, "too simple"),
    ],
)
def test_production_refuses_weak_secrets(
    monkeypatch: pytest.MonkeyPatch, secret: str, why: str
) -> None:
    monkeypatch.setenv("JUKINET_ENVIRONMENT", "production")
    monkeypatch.setenv("JUKINET_SECRET_KEY", secret)
    with pytest.raises(SettingsError) as error:
        load_settings()
    _ja, en = _problem(error, "JUKINET_SECRET_KEY")
    assert why in en
    assert "JUKINET_ENVIRONMENT is not set" not in en  # it was set, to production
    assert secret not in str(error.value)  # a refusal never echoes the secret


def test_production_starts_with_a_real_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUKINET_SECRET_KEY", GOOD_SECRET)
    settings = load_settings()
    assert settings.environment == "production"
    assert settings.secret_key == GOOD_SECRET


@pytest.mark.parametrize("environment", ["dev", "test"])
def test_an_explicit_dev_or_test_environment_accepts_the_placeholder(
    monkeypatch: pytest.MonkeyPatch, environment: str
) -> None:
    monkeypatch.setenv("JUKINET_ENVIRONMENT", environment)
    assert load_settings().secret_key == DEV_SECRET
    monkeypatch.delenv("JUKINET_ENVIRONMENT")
    assert load_settings(environment=environment).environment == environment


def test_a_moved_test_clock_is_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUKINET_SECRET_KEY", GOOD_SECRET)
    monkeypatch.setenv("JUKINET_TEST_CLOCK_OFFSET_SECONDS", str(8 * 86400))
    with pytest.raises(SettingsError) as error:
        load_settings()
    ja, en = _problem(error, "JUKINET_TEST_CLOCK_OFFSET_SECONDS")
    assert "for tests only" in en
    assert "本番環境では設定できません" in ja
    assert load_settings(environment="test").test_clock_offset_seconds == 8 * 86400
    assert load_settings(environment="dev").test_clock_offset_seconds == 8 * 86400


def test_an_invalid_value_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUKINET_ENVIRONMENT", "dev")
    monkeypatch.setenv("JUKINET_ARGON2_TIME_COST", "three")
    with pytest.raises(SettingsError) as error:
        load_settings()
    ja, en = _problem(error, "JUKINET_ARGON2_TIME_COST")
    assert "invalid value" in en
    assert "正しくありません" in ja


# -- unknown variables --------------------------------------------------------------------------


def test_an_unknown_variable_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUKINET_ENVIRONMENT", "dev")
    monkeypatch.setenv(TYPO, "sqlite:///typo.sqlite3")
    with pytest.raises(SettingsError) as error:
        load_settings()
    ja, en = _problem(error, TYPO)
    assert en.startswith(f"unknown setting {TYPO} (did you mean JUKINET_DATABASE_URL?)")
    assert "known: " in en
    assert "JUKINET_DATABASE_URL" in en.split("known: ")[1]
    assert f"不明な設定 {TYPO}" in ja


def test_every_unknown_variable_is_named_even_in_lower_case(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JUKINET_ENVIRONMENT", "dev")
    monkeypatch.setenv("JUKINET_NO_SUCH_THING", "1")
    monkeypatch.setenv("jukinet_another_one", "1")
    assert unknown_variables() == ["JUKINET_NO_SUCH_THING", "jukinet_another_one"]
    with pytest.raises(SettingsError) as error:
        load_settings(environment="dev")
    assert [p.setting for p in error.value.problems] == [
        "JUKINET_NO_SUCH_THING",
        "jukinet_another_one",
    ]


@pytest.mark.parametrize("name", [OPERATOR_VARIABLE, OPERATOR_PASSWORD_VARIABLE, CA_PIN_VARIABLE])
def test_variables_the_command_line_reads_are_known(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv(name, "something")
    assert load_settings(environment="test").environment == "test"
    assert name in known_variables()


def test_an_unknown_override_is_refused() -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(environment="test", secret="x")
    _ja, en = _problem(error, "secret")
    assert en.startswith("unknown setting secret")


def test_every_jukinet_variable_in_the_repository_is_known() -> None:
    # One list: a variable read anywhere (code, tests, benchmarks, scripts, documents) and
    # missing from jukinet.config would be refused as unknown.
    this_file = Path(__file__).resolve()
    mentioned: dict[str, Path] = {}
    for folder in ("src", "tests", "bench", "scripts", "docs"):
        for path in (ROOT / folder).rglob("*"):
            if not path.is_file() or path.resolve() == this_file or "__pycache__" in path.parts:
                continue
            if path.suffix not in {".py", ".md", ".sh", ""}:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            for name in re.findall(r"\bJUKINET_[A-Z0-9_]*[A-Z0-9]\b", text):
                mentioned.setdefault(name, path)
    for document in ("README.md", "BENCHMARKS.md", "THREAT_MODEL.md"):
        text = (ROOT / document).read_text(encoding="utf-8")
        for name in re.findall(r"\bJUKINET_[A-Z0-9_]*[A-Z0-9]\b", text):
            mentioned.setdefault(name, ROOT / document)
    unknown = {name: str(path) for name, path in mentioned.items() if name not in known_variables()}
    assert not unknown
    assert set(OTHER_VARIABLES).isdisjoint(f"JUKINET_{f.upper()}" for f in Settings.model_fields)


# -- node.json ----------------------------------------------------------------------------------


def _config(tmp_path: Path, **per_node: object) -> NodeConfig:
    return NodeConfig(
        node="prefecture:13",
        network_port=8101,
        operator_port=8001,
        per_node={
            "environment": "test",
            "database_url": f"sqlite:///{tmp_path / 'node.sqlite3'}",
            "pki_dir": tmp_path / "pki",
            "secret_key": GOOD_SECRET,
            "peers": {"national:jlis": "https://127.0.0.1:8100"},
            **per_node,
        },
    )


def test_node_json_round_trips_and_holds_only_what_the_node_sets(tmp_path: Path) -> None:
    config = _config(tmp_path, delivery_max_backoff_seconds=5.0)
    path = config.save(tmp_path / "node")
    assert path.stat().st_mode & 0o777 == 0o600
    written = json.loads(path.read_text(encoding="utf-8"))
    assert written == {
        "node": "prefecture:13",
        "network_port": 8101,
        "operator_port": 8001,
        "host": "127.0.0.1",
        "tree_head_interval_seconds": 60.0,
        "environment": "test",
        "database_url": f"sqlite:///{tmp_path / 'node.sqlite3'}",
        "pki_dir": str(tmp_path / "pki"),
        "secret_key": GOOD_SECRET,
        "peers": {"national:jlis": "https://127.0.0.1:8100"},
        "delivery_max_backoff_seconds": 5.0,
    }
    loaded = NodeConfig.load(tmp_path / "node")
    assert loaded.save(tmp_path / "again").read_text() == path.read_text()
    settings = loaded.settings()
    assert (settings.role, settings.node_code) == ("prefecture", "13")
    assert settings.pki_dir == tmp_path / "pki"
    assert settings.delivery_max_backoff_seconds == 5.0
    # What the file leaves out has the one default, Settings'.
    assert settings.delivery_batch == Settings.model_fields["delivery_batch"].default
    assert settings.participation == "connected"


def test_node_json_wins_over_the_environment_which_fills_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUKINET_DELIVERY_BATCH", "123")
    monkeypatch.setenv("JUKINET_ENVIRONMENT", "production")
    settings = _config(tmp_path).settings()
    assert settings.delivery_batch == 123
    assert settings.environment == "test"


def test_runtime_keys_and_settings_fields_do_not_overlap() -> None:
    runtime = {
        "node",
        "network_port",
        "operator_port",
        "public_port",
        "host",
        "tree_head_interval_seconds",
    }
    identity = {"role", "municipality_code", "node_code"}
    assert set(RUNTIME_KEYS) == runtime
    assert RUNTIME_KEYS.isdisjoint(Settings.model_fields)
    assert set(PER_NODE_SETTINGS) == set(Settings.model_fields) - identity


def test_a_node_without_an_environment_is_production(tmp_path: Path) -> None:
    config = NodeConfig(
        node="municipality:132292",
        network_port=1,
        operator_port=2,
        per_node={"database_url": "sqlite://"},
    )
    with pytest.raises(SettingsError) as error:
        config.settings()
    _problem(error, "JUKINET_SECRET_KEY")
    assert config.with_settings(secret_key=GOOD_SECRET).settings().environment == "production"


def test_an_earlier_node_json_still_loads(tmp_path: Path) -> None:
    # The flat file the previous NodeConfig dataclass wrote.
    folder = tmp_path / "old"
    folder.mkdir()
    (folder / "node.json").write_text(
        json.dumps(
            {
                "node": "municipality:141003",
                "database_url": "sqlite:///x.sqlite3",
                "pki_dir": "pki",
                "network_port": 8105,
                "operator_port": 8005,
                "peers": {},
                "participation": "connected",
                "allow_opt_out": True,
                "host": "127.0.0.1",
                "secret_key": None,
                "environment": "dev",
                "delivery_max_backoff_seconds": 5.0,
                "tree_head_interval_seconds": 60.0,
            }
        ),
        encoding="utf-8",
    )
    config = NodeConfig.load(folder)
    assert "secret_key" not in config.per_node  # null: not set
    settings = config.settings()
    assert (settings.municipality_code, settings.allow_opt_out) == ("141003", True)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("secret", "unknown key secret in node.json; known: "),
        ("role", "role cannot be set in node.json"),
        ("per_node", "unknown key per_node in node.json"),
    ],
)
def test_node_json_refuses_keys_it_cannot_hold(tmp_path: Path, key: str, expected: str) -> None:
    data = json.loads(_config(tmp_path).save(tmp_path / "node").read_text(encoding="utf-8"))
    data[key] = "x"
    (tmp_path / "node" / "node.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(SettingsError) as error:
        NodeConfig.load(tmp_path / "node")
    _ja, en = _problem(error, f"node.json: {key}")
    assert expected in en


def test_node_json_refuses_a_bad_port_and_a_bad_name(tmp_path: Path) -> None:
    data = json.loads(_config(tmp_path).save(tmp_path / "node").read_text(encoding="utf-8"))
    data["network_port"] = "eighty"
    data["node"] = "town:1"
    (tmp_path / "node" / "node.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(SettingsError) as error:
        NodeConfig.load(tmp_path / "node")
    assert {p.setting for p in error.value.problems} == {"node", "node.json: network_port"}


def test_a_missing_node_json_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as error:
        NodeConfig.load(tmp_path)
    assert "jukinet node init" in str(error.value)
