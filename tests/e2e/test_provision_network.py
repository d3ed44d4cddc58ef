"""Issue 4's acceptance test, on the demo network (six node processes), SQLite and PostgreSQL.

Everything goes through the ``jukinet`` command as an administrator, an agency and a counter
clerk would use it: a new agency is issued a client certificate and registered with one affair;
it runs an allowed query, a refused one and a batch against the national centre; a resident's
disclosure is produced with inclusion proofs that check against the network CA; and an access-log
entry altered in the centre's database is named by ``jukinet audit verify``.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner, Result

from jukinet.cli.main import app
from jukinet.domain.operators import Role
from jukinet.runtime.demo import build_demo, make_moves, sample_codes, wait_until_delivered
from jukinet.runtime.demo_provision import network_url
from jukinet.services.operators import add_operator
from tests.support.databases import demo_template, drop_template_databases
from tests.support.ports import base_port as block_base_port

pytestmark = pytest.mark.e2e

AGENCY = "agency:e2e-kensetsu"
CONSTRUCTION = "T1-97"  # 建設業法
PENSION = "T1-16"  # 恩給法 — not granted to this agency
OFFICIAL = "kanri.e2e"
ADMIN = "unyou.e2e"
OFFICIAL_PASSWORD = "a throw-away e2e password"  # a test account


def _run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


def test_agency_queries_disclosure_and_tamper_evidence(tmp_path: Path, database_url: str) -> None:
    template = demo_template(database_url)
    demo = build_demo(
        tmp_path / "demo",
        residents=300,
        seed=7,
        database_url_template=template,
        base_port=block_base_port(),
        say=lambda _message: None,
    )
    cluster = demo.cluster
    try:
        cluster.start()
        make_moves(demo, say=lambda _message: None)
        assert wait_until_delivered(demo, say=lambda _message: None)
        centre = cluster.nodes["national:jlis"]
        pki = cluster.pki.folder
        url = network_url(cluster, "national:jlis")
        client = [
            "--url",
            url,
            "--cert-dir",
            str(cluster.pki.node(AGENCY).folder),
            "--ca",
            str(cluster.pki.ca_cert_path),
        ]
        codes = sample_codes(demo, count=40)[:40]

        # The centre's system administrator issues the agency a certificate; a supervisor
        # registers it with one affair (each signed in: password alone on this test node).
        centre_handle = cluster.handle("national:jlis")
        for username, role in ((ADMIN, Role.SYSTEM_ADMINISTRATOR), (OFFICIAL, Role.SUPERVISOR)):
            add_operator(
                centre_handle,
                actor=None,
                username=username,
                display_name="登録 担当",
                role=role,
                password=OFFICIAL_PASSWORD,
            )
        centre_handle.engine.dispose()
        signed = {"JUKINET_OPERATOR_PASSWORD": OFFICIAL_PASSWORD}
        issued = _run(
            "pki",
            "issue-client",
            "--pki",
            str(pki),
            AGENCY,
            "--node-dir",
            str(centre.folder),
            "--operator",
            ADMIN,
            env=signed,
        )
        assert issued.exit_code == 0, issued.output
        added = _run(
            "recipient",
            "add",
            AGENCY,
            "--name",
            "国土交通省（E2E）",
            "--kind",
            "national_body",
            "--body",
            "国土交通省",
            "--dir",
            str(centre.folder),
            "--operator",
            OFFICIAL,
            env=signed,
        )
        assert added.exit_code == 0, added.output
        granted = _run(
            "recipient",
            "grant",
            AGENCY,
            CONSTRUCTION,
            "--decision",
            "国総建第7号",
            "--operator",
            OFFICIAL,
            "--dir",
            str(centre.folder),
            env={"JUKINET_OPERATOR_PASSWORD": OFFICIAL_PASSWORD},
        )
        assert granted.exit_code == 0, granted.output

        # An allowed query by code.
        allowed = _run(
            "agency",
            "lookup",
            codes[0],
            *client,
            "--affair",
            CONSTRUCTION,
            "--officer",
            "建設 太郎",
            "--case",
            "E2E-1",
        )
        assert allowed.exit_code == 0, allowed.output
        answer = json.loads(allowed.stdout)["results"][0]
        assert answer["outcome"] == "found"
        assert answer["record"]["resident_code"] == codes[0]

        # A refused one: the affair is named and nothing is provided.
        refused = _run(
            "agency", "lookup", codes[0], *client, "--affair", PENSION, "--officer", "建設 太郎"
        )
        assert refused.exit_code == 2
        assert "JUKI-AFF-001" in refused.output
        assert PENSION in refused.output

        # A batch: 40 codes and one malformed row, answered by the centre's worker.
        upload = tmp_path / "rows.csv"
        upload.write_text(
            "resident_code,ref\n"
            + "".join(f"{code},r{n}\n" for n, code in enumerate(codes, start=1))
            + "not-a-code,bad\n",
            encoding="utf-8",
        )
        submitted = _run(
            "agency",
            "batch-submit",
            str(upload),
            *client,
            "--affair",
            CONSTRUCTION,
            "--officer",
            "建設 太郎",
        )
        assert submitted.exit_code == 0, submitted.output
        job_id = json.loads(submitted.stdout)["job_id"]
        deadline = time.monotonic() + 60
        while True:
            status = json.loads(_run("agency", "batch-status", job_id, *client).stdout)
            if status["status"] == "done" or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert (status["status"], status["total_rows"], status["found_rows"]) == ("done", 41, 40)
        results_file = tmp_path / "results.jsonl"
        fetched = _run("agency", "batch-results", job_id, *client, "--out", str(results_file))
        assert fetched.exit_code == 0, fetched.output
        lines = [json.loads(line) for line in results_file.read_text("utf-8").splitlines()]
        assert [line["status"] for line in lines] == ["found"] * 40 + ["error"]

        # The resident's disclosure at the centre, with proofs the network CA vouches for.
        document_file = tmp_path / "disclosure.json"
        disclosed = _run(
            "audit",
            "disclose",
            codes[0],
            "--operator",
            "madoguchi",
            "--dir",
            str(centre.folder),
            "--out",
            str(document_file),
            env={"JUKINET_OPERATOR_PASSWORD": demo.passwords["madoguchi"]},
        )
        assert disclosed.exit_code == 0, disclosed.output
        document = json.loads(document_file.read_text("utf-8"))
        mine = [item["entry"] for item in document["entries"] if item["entry"]["actor"] == AGENCY]
        # The online query, the batch answering the row, and the download handing it over.
        assert [(e["action"], e["channel"], e["affair_code"]) for e in mine] == [
            ("read", "agency_api", CONSTRUCTION),
            ("read", "batch", CONSTRUCTION),
            ("read", "batch", CONSTRUCTION),
        ]
        assert mine[0]["officer"] == "建設 太郎"
        assert mine[0]["case_number"] == "E2E-1"
        checked = _run(
            "audit", "check-proof", str(document_file), "--ca", str(cluster.pki.ca_cert_path)
        )
        assert checked.exit_code == 0, checked.output

        forged_file = tmp_path / "forged.json"
        forged = json.loads(document_file.read_text("utf-8"))
        forged["entries"][0]["entry"]["affair_code"] = PENSION
        forged_file.write_text(json.dumps(forged, ensure_ascii=False), encoding="utf-8")
        rejected = _run(
            "audit", "check-proof", str(forged_file), "--ca", str(cluster.pki.ca_cert_path)
        )
        assert rejected.exit_code == 1

        # The log verifies, until an insider rewrites the agency's entry in the database.
        assert _run("audit", "verify", "--dir", str(centre.folder)).exit_code == 0
        position = next(
            item["entry"]["index"]
            for item in document["entries"]
            if item["entry"]["actor"] == AGENCY
        )
        engine = create_engine(centre.config.settings().database_url)
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE access_log SET actor = 'agency:nobody' WHERE position = :p"),
                {"p": position},
            )
        engine.dispose()
        tampered = _run("audit", "verify", "--dir", str(centre.folder))
        assert tampered.exit_code == 1
        assert re.search(rf"first bad entry: {position}\b", tampered.output), tampered.output
    finally:
        cluster.stop()
        drop_template_databases(template)
