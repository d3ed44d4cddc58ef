"""The ``jukinet`` command line, against SQLite and PostgreSQL."""

from __future__ import annotations

import json
import random
from datetime import UTC
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from typer.testing import CliRunner, Result

from jukinet.cli.main import app
from jukinet.domain.clock import JST
from jukinet.domain.codes import random_resident_codes
from jukinet.domain.wareki import format_wareki
from jukinet.services.codes import pool_size
from jukinet.services.context import ServiceContext
from jukinet.services.operators import authenticate
from jukinet.storage.tables import OperatorRow, OutboxRow, ResidentRow, ResidentVersionRow
from tests.integration.cli.accounts import (
    ADMINISTRATOR,
    PASSWORD,
    SECURITY_OFFICER,
    as_,
    ensure,
)

#: Cheap password hashing, a wide console, and nothing inherited from the caller's shell.
ENV = {
    "JUKINET_ARGON2_TIME_COST": "1",
    "JUKINET_ARGON2_MEMORY_COST": "8192",
    "JUKINET_DATABASE_URL": "sqlite:////nonexistent/never-used.sqlite3",
    "JUKINET_OPERATOR": None,
    "JUKINET_OPERATOR_PASSWORD": None,
    "JUKINET_MUNICIPALITY_CODE": "132292",
    # Settings fail closed: the tests say they are tests.
    "JUKINET_ENVIRONMENT": "test",
    "COLUMNS": "200",
}


def run(*args: str, url: str | None = None, input: str | None = None, **env: str) -> Result:
    """Invoke ``jukinet`` (with ``--database-url`` when ``url`` is given)."""
    argv = ["--database-url", url, *args] if url else list(args)
    return CliRunner().invoke(app, argv, input=input, env={**ENV, **env})


def add_operator(url: str, username: str = "clerk1", role: str = "clerk") -> None:
    """Added by a signed-in security officer, as every account after the first."""
    ensure(url, SECURITY_OFFICER)
    result = run(
        "operator", "add", username, "--role", role, "--display-name", "窓口 一郎",
        "--password-stdin", url=url, input=PASSWORD + "\n", **as_(SECURITY_OFFICER),
    )  # fmt: skip
    assert result.exit_code == 0, result.output


def admin(*args: str, url: str, **env: str) -> Result:
    """``jukinet ARGS`` run by a signed-in system administrator."""
    ensure(url, ADMINISTRATOR)
    return run(*args, url=url, **as_(ADMINISTRATOR), **env)


def _count(node: ServiceContext, table: type[object]) -> int:
    with node.uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(table)) or 0)


def test_db_upgrade_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    before = run("db", "current", url=url)
    assert before.exit_code == 0, before.output
    assert "jukinet db upgrade" in before.output
    result = run("db", "upgrade", url=url)
    assert result.exit_code == 0, result.output
    assert "(head)" in result.output
    engine = create_engine(url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM residents")).scalar() == 0
    engine.dispose()
    assert "(head)" in run("db", "current", url=url).output


def test_operator_add_reads_the_password_from_stdin(
    node: ServiceContext, database_url: str
) -> None:
    add_operator(database_url)
    actor = authenticate(node, username="clerk1", password=PASSWORD)
    assert actor.role.value == "clerk"
    listing = run("operator", "list", url=database_url, **as_(SECURITY_OFFICER))
    assert listing.exit_code == 0, listing.output
    assert "clerk1" in listing.output
    assert "窓口担当" in listing.output
    assert "argon2" not in listing.output


def test_operator_add_refuses_a_short_password(node: ServiceContext, database_url: str) -> None:
    ensure(database_url, SECURITY_OFFICER)
    result = run(
        "operator", "add", "clerk2", "--role", "clerk", "--display-name", "窓口 二郎",
        "--password-stdin", url=database_url, input="short\n", **as_(SECURITY_OFFICER),
    )  # fmt: skip
    assert result.exit_code == 2
    assert "JUKI-AUTH-011" in result.output
    assert "Traceback" not in result.output
    assert _count(node, OperatorRow) == 1  # the security officer alone


def test_the_password_is_never_an_argument() -> None:
    result = run("operator", "add", "clerk3", "--role", "clerk", "--password", "x" * 20)
    assert result.exit_code == 2
    assert "No such option" in result.output


def test_codes_allot_and_status(node: ServiceContext, database_url: str) -> None:
    result = admin("codes", "allot", "--count", "120", url=database_url)
    assert result.exit_code == 0, result.output
    assert pool_size(node) == 120
    status = admin("codes", "status", url=database_url)
    assert status.exit_code == 0, status.output
    assert "120" in status.output


def test_seed_then_show_a_resident(node: ServiceContext, database_url: str) -> None:
    result = admin("seed", "--residents", "200", "--seed", "42", url=database_url)
    assert result.exit_code == 0, result.output
    assert "200" in result.output
    assert _count(node, ResidentRow) == 200
    assert _count(node, OutboxRow) == 200
    with node.uow() as uow:
        row = uow.session.scalars(select(ResidentRow).order_by(ResidentRow.id)).first()
    assert row is not None
    add_operator(database_url)
    shown = run(
        "resident", "show", row.resident_code, "--operator", "clerk1",
        url=database_url, JUKINET_OPERATOR_PASSWORD=PASSWORD,
    )  # fmt: skip
    assert shown.exit_code == 0, shown.output
    assert format_wareki(row.birth_date) in shown.output  # 和暦, e.g. 昭和55年4月1日
    assert row.family_name in shown.output
    assert "職権記載" in shown.output  # the history names the bulk entry
    assert "│ システム " in shown.output  # who filed it, by name (the server's own account)
    # The recording time in Japan time, like every date on the screen (stored in UTC).
    with node.uow() as uow:
        stored = uow.session.scalars(
            select(ResidentVersionRow.recorded_at).where(ResidentVersionRow.resident_id == row.id)
        ).first()
    assert stored is not None
    in_jst = (stored if stored.tzinfo else stored.replace(tzinfo=UTC)).astimezone(JST)
    assert in_jst.strftime("%H:%M") in shown.output
    assert "(JST)" in shown.output


def test_resident_commands_need_the_operator_password(
    node: ServiceContext, database_url: str
) -> None:
    admin("seed", "--residents", "20", "--seed", "1", url=database_url)
    add_operator(database_url)
    with node.uow() as uow:
        code = uow.session.scalars(select(ResidentRow.resident_code)).first()
    assert code is not None
    wrong = run(
        "resident", "show", code, "--operator", "clerk1",
        url=database_url, JUKINET_OPERATOR_PASSWORD="not the password",
    )  # fmt: skip
    assert wrong.exit_code == 2
    assert "JUKI-AUTH-001" in wrong.output
    prompted = run(
        "resident", "show", code, "--operator", "clerk1", url=database_url, input=PASSWORD + "\n"
    )
    assert prompted.exit_code == 0, prompted.output


def test_resident_search_masks_codes(node: ServiceContext, database_url: str) -> None:
    admin("seed", "--residents", "100", "--seed", "3", url=database_url)
    add_operator(database_url)
    with node.uow() as uow:
        row = uow.session.scalars(select(ResidentRow).order_by(ResidentRow.id)).first()
    assert row is not None
    result = run(
        "resident", "search", row.family_name_kana + row.given_name_kana,
        "--birth-date", row.birth_date.isoformat(),
        url=database_url, JUKINET_OPERATOR="clerk1", JUKINET_OPERATOR_PASSWORD=PASSWORD,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "*******" + row.resident_code[-4:] in result.output
    assert row.resident_code not in result.output


def test_seed_is_repeatable(tmp_path: Path) -> None:
    def seeded(name: str) -> list[tuple[str, ...]]:
        url = f"sqlite:///{tmp_path / name}"
        assert run("db", "upgrade", url=url).exit_code == 0
        result = admin("seed", "--residents", "150", "--seed", "7", url=url)
        assert result.exit_code == 0, result.output
        engine = create_engine(url)
        with engine.connect() as connection:
            rows = connection.execute(
                select(
                    ResidentRow.family_name,
                    ResidentRow.given_name,
                    ResidentRow.address,
                    ResidentRow.resident_code,
                ).order_by(ResidentRow.id)
            ).all()
        engine.dispose()
        return [tuple(r) for r in rows]

    assert seeded("a.sqlite3") == seeded("b.sqlite3")


def test_move_in_with_a_hiragana_reading_exits_2(node: ServiceContext, database_url: str) -> None:
    add_operator(database_url)
    code = random_resident_codes(random.Random(5), 1)[0]
    result = run(
        "register", "move-in",
        "--family-name", "山田", "--given-name", "太郎",
        "--family-name-kana", "ヤマダ", "--given-name-kana", "たろう",
        "--birth-date", "昭和55年4月1日", "--sex", "male", "--resident-code", code,
        "--address", "東京都西東京市泉町一丁目2番3号",
        "--previous-address", "東京都国立市中一丁目1番1号",
        "--moved-on", "R8.11.20", "--filed-on", "R8.11.20",
        "--operator", "clerk1",
        url=database_url, JUKINET_OPERATOR_PASSWORD=PASSWORD,
    )  # fmt: skip
    assert result.exit_code == 2
    assert "JUKI-NAME-012" in result.output
    assert "ひらがな" in result.output  # Japanese message
    assert "hiragana" in result.output  # English message
    assert "given_name_kana" in result.output  # the field
    assert "Traceback" not in result.output
    assert _count(node, ResidentRow) == 0


def test_move_in_then_birth(node: ServiceContext, database_url: str) -> None:
    add_operator(database_url)
    admin("codes", "allot", "--count", "5", url=database_url)
    code = random_resident_codes(random.Random(6), 1)[0]
    moved = run(
        "register", "move-in",
        "--family-name", "山田", "--given-name", "太郎",
        "--family-name-kana", "ヤマダ", "--given-name-kana", "タロウ",
        "--birth-date", "1980-04-01", "--sex", "male", "--resident-code", code,
        "--address", "東京都西東京市泉町一丁目2番3号",
        "--previous-address", "東京都国立市中一丁目1番1号",
        "--moved-on", "令和8年11月20日",
        url=database_url, JUKINET_OPERATOR="clerk1", JUKINET_OPERATOR_PASSWORD=PASSWORD,
    )  # fmt: skip
    assert moved.exit_code == 0, moved.output
    with node.uow() as uow:
        row = uow.residents.get_row(code)
        household = uow.households.by_id(row.household_id).household_number
    born = run(
        "register", "birth", "--household-number", household,
        "--family-name", "山田", "--given-name", "花子",
        "--family-name-kana", "ヤマダ", "--given-name-kana", "ハナコ",
        "--birth-date", "R8.11.20", "--sex", "female",
        url=database_url, JUKINET_OPERATOR="clerk1", JUKINET_OPERATOR_PASSWORD=PASSWORD,
    )  # fmt: skip
    assert born.exit_code == 0, born.output
    assert _count(node, ResidentRow) == 2


def test_an_unmigrated_database_gets_a_hint(tmp_path: Path) -> None:
    result = run(
        "codes", "status", url=f"sqlite:///{tmp_path / 'empty.sqlite3'}", **as_(ADMINISTRATOR)
    )
    assert result.exit_code == 1
    assert "jukinet db upgrade" in result.output
    assert "Traceback" not in result.output


def test_an_unknown_municipality_is_refused(tmp_path: Path) -> None:
    result = run(
        "seed", "--municipality", "132291", url=f"sqlite:///{tmp_path / 'x.sqlite3'}",
        **as_(ADMINISTRATOR),
    )  # fmt: skip
    assert result.exit_code == 2
    assert "JUKI-MUNI-002" in result.output


def test_demo_without_serving(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    result = run("demo-node", "--no-serve", "--residents", "300", "--data-dir", str(data_dir))
    assert result.exit_code == 0, result.output
    for username in ("madoguchi", "kanri", "anzen"):
        assert username in result.output
    assert "http://localhost:8000/" in result.output
    database = data_dir / "demo.sqlite3"
    assert database.exists()
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM residents")).scalar() == 300
        roles = dict(connection.execute(text("SELECT username, role FROM operators")).all())
    engine.dispose()
    assert roles["madoguchi"] == "clerk"
    assert roles["kanri"] == "supervisor"
    assert roles["anzen"] == "security_officer"

    again = run("demo-node", "--no-serve", "--residents", "10", "--data-dir", str(data_dir))
    assert again.exit_code == 0, again.output
    assert "removed the old demo database" in again.output
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM residents")).scalar() == 10
    engine.dispose()


@pytest.mark.parametrize("argv", [["--help"], ["register", "--help"], ["--version"]])
def test_help_and_version(argv: list[str]) -> None:
    result = run(*argv)
    assert result.exit_code == 0, result.output


def test_move_in_of_a_family_from_json(
    node: ServiceContext, database_url: str, tmp_path: Path
) -> None:
    add_operator(database_url)
    first, second = random_resident_codes(random.Random(8), 2)
    document = {
        "address": "東京都西東京市北町一丁目1番1号",
        "previous_address": "東京都小平市小川町一丁目1番1号",
        "moved_on": "令和8年11月24日",
        "persons": [
            {
                "family_name": "佐藤",
                "given_name": "一郎",
                "family_name_kana": "サトウ",
                "given_name_kana": "イチロウ",
                "birth_date": "S50.1.1",
                "sex": "male",
                "resident_code": first,
            },
            {
                "family_name": "佐藤",
                "given_name": "花子",
                "family_name_kana": "サトウ",
                "given_name_kana": "ハナコ",
                "birth_date": "1976-02-02",
                "sex": "female",
                "relationship": "wife",
                "resident_code": second,
            },
        ],
    }
    path = tmp_path / "family.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    result = run(
        "register", "move-in", "--from-json", str(path),
        url=database_url, JUKINET_OPERATOR="clerk1", JUKINET_OPERATOR_PASSWORD=PASSWORD,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with node.uow() as uow:
        rows = [uow.residents.get_row(code) for code in (first, second)]
    assert rows[0].household_id == rows[1].household_id
    assert [r.relationship for r in rows] == ["head", "wife"]


def test_serve_runs_uvicorn_with_the_node_app(
    node: ServiceContext, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn
    from fastapi import FastAPI

    calls: list[tuple[object, dict[str, object]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append((app, options)))
    key = str(node.settings.audit_key_path)
    result = run("serve", "--port", "8123", url=database_url, JUKINET_AUDIT_KEY_PATH=key)
    assert result.exit_code == 0, result.output
    [(served, options)] = calls
    assert isinstance(served, FastAPI)
    assert served.state.node.settings.database_url == database_url
    assert options["host"] == "127.0.0.1"
    assert options["port"] == 8123
    assert options["loop"] == "uvloop"  # installed with uvicorn[standard]
    assert options["http"] == "httptools"


def test_demo_serves_on_localhost(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from jukinet.cli import demo

    served: list[tuple[str, int]] = []
    monkeypatch.setattr(demo, "run_server", lambda node, *, host, port: served.append((host, port)))
    result = run("demo-node", "--residents", "20", "--port", "8765", "--data-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert served == [("127.0.0.1", 8765)]
    assert "http://localhost:8765/" in result.output


def test_an_empty_reading_is_refused_in_japanese_and_english(database_url: str) -> None:
    add_operator(database_url)
    result = run(
        "register", "move-in", "--family-name", "渡邊", "--given-name", "健一",
        "--family-name-kana", "ワタナベ", "--given-name-kana", "", "--birth-date", "S50.3.14",
        "--sex", "male", "--address", "東京都西東京市泉町一丁目2番3号",
        "--previous-address", "Seoul", "--from-abroad", "--moved-on", "令和8年11月20日",
        "--operator", "clerk1",
        url=database_url, JUKINET_OPERATOR_PASSWORD=PASSWORD,
    )  # fmt: skip
    assert result.exit_code == 2
    flat = " ".join(result.output.split())
    assert "--given-name-kana を入力してください" in flat
    assert "missing --given-name-kana" in flat
