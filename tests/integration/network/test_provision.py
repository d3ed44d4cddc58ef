"""Agencies query the national centre and a prefecture over mutual TLS (both databases).

Residents are registered at the municipality and reach the upper tiers through the real
network; recipients are registered with their affairs; agencies call with client certificates
issued by the network CA.
"""

from __future__ import annotations

import json
import ssl
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from jukinet.domain.operators import Role
from jukinet.services import audit, batch, batch_results, recipients, register
from jukinet.services.batch_results import RESULTS_KEPT
from jukinet.services.context import ServiceContext
from jukinet.storage import access_log as store
from jukinet.storage.registry import RegistryCache
from jukinet.storage.tables import AccessLogRow, BatchChunkRow, BatchJobRow, NetworkRejectionRow
from tests.conftest import TEST_NOW
from tests.integration.network.conftest import MUNICIPALITY, NATIONAL, PREFECTURE, Tiers
from tests.support.clock import FixedClock
from tests.support.factories import make_actor, move_in_household, person, with_pool
from tests.support.network import drain, real_now

PENSION = "T1-16"  # 恩給法 — granted to agency:soumu-onkyu by the seed
RADIO = "T1-26"  # 電波法 — granted to agency:soumu-denpa only


@dataclass
class World:
    tiers: Tiers
    alive: str
    deceased: str
    kana_twin: str
    ca: Path

    def client(self, principal: str) -> httpx.Client:
        creds = self.tiers.pki.node(principal)
        context = ssl.create_default_context(cafile=str(self.ca))
        context.load_cert_chain(str(creds.tls_cert), str(creds.tls_key))
        return httpx.Client(verify=context, timeout=30)

    @property
    def national_url(self) -> str:
        return self.tiers.urls[NATIONAL]


@pytest.fixture
def world(tiers: Tiers) -> World:
    municipality = tiers.municipality
    with_pool(municipality)
    clerk = make_actor(municipality, Role.SUPERVISOR, username="clerk")
    alive = move_in_household(municipality, clerk, person()).records[0].record.resident_code
    other = move_in_household(
        municipality,
        clerk,
        person(
            family="髙橋",
            family_kana="タカハシ",
            given="一郎",
            given_kana="イチロウ",
            birth_date=date(1950, 1, 2),
        ),
    )
    deceased = other.records[0].record.resident_code
    twin = (
        move_in_household(
            municipality,
            clerk,
            person(
                family="高橋",
                family_kana="タカハシ",
                given="一郎",
                given_kana="イチロウ",
                birth_date=date(1950, 1, 2),
            ),
        )
        .records[0]
        .record.resident_code
    )
    register.file_death(
        municipality,
        actor=clerk,
        resident_code=deceased,
        died_on=date(2026, 11, 24),
        filed_on=date(2026, 11, 26),
    )
    drain({MUNICIPALITY: municipality, PREFECTURE: tiers.prefecture, NATIONAL: tiers.national})
    for node in (tiers.national, tiers.prefecture):
        recipients.seed(node)
    for principal in ("agency:soumu-onkyu", "agency:unregistered", "pref:13"):
        tiers.pki.issue_client(tiers.signer, principal, now=TEST_NOW)
    return World(tiers, alive, deceased, twin, tiers.pki.ca_cert_path)


def _national_log(node: ServiceContext) -> list[AccessLogRow]:
    with node.uow() as uow:
        return list(uow.session.scalars(select(AccessLogRow).order_by(AccessLogRow.position)))


def test_lookup_by_code_gives_the_affairs_items_and_change_information(world: World) -> None:
    with world.client("agency:soumu-onkyu") as client:
        affairs = client.get(f"{world.national_url}/provision/v1/affairs").json()
        assert [a["affair_code"] for a in affairs["affairs"]] == [PENSION]
        response = client.post(
            f"{world.national_url}/provision/v1/residents/lookup",
            json={
                "affair_code": PENSION,
                "officer": "恩給 太郎",
                "case_number": "R8-0001",
                "resident_codes": [world.alive, world.deceased, "12345"],
            },
        )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["outcome"] for r in results] == ["found", "found", "invalid"]
    assert results[0]["record"]["status"] == "current"
    assert results[0]["record"]["name"]["family"] == "山田"
    dead = results[1]["record"]
    assert dead["status"] == "deleted"
    assert dead["change"]["reason"] == "C02"
    assert dead["change"]["changed_on"] == "2026-11-24"
    assert results[2]["error"]["code"] == "JUKI-CODE-001"

    entries = [e for e in _national_log(world.tiers.national) if e.actor_kind == "recipient"]
    assert [(e.action, e.subject, e.affair_code) for e in entries] == [
        ("read", world.alive, PENSION),
        ("read", world.deceased, PENSION),
    ]
    assert entries[0].officer == "恩給 太郎"
    assert entries[0].case_number == "R8-0001"
    assert entries[0].items == "name,birth_date,sex,address,resident_code,change_info"


def test_an_unauthorised_affair_is_refused_before_anything_is_read(world: World) -> None:
    with world.client("agency:soumu-onkyu") as client:
        response = client.post(
            f"{world.national_url}/provision/v1/residents/lookup",
            json={"affair_code": RADIO, "officer": "恩給 太郎", "resident_codes": [world.alive]},
        )
    assert response.status_code == 403
    error = response.json()["errors"][0]
    assert error["code"] == "JUKI-AFF-001"
    assert RADIO in error["message_en"]
    entries = [e for e in _national_log(world.tiers.national) if e.actor_kind == "recipient"]
    assert [(e.action, e.subject, e.affair_code) for e in entries] == [("refused", None, RADIO)]


def test_unregistered_certificates_and_node_certificates_are_refused(world: World) -> None:
    body = {"affair_code": PENSION, "officer": "x", "resident_codes": [world.alive]}
    for principal in ("agency:unregistered", MUNICIPALITY):
        with world.client(principal) as client:
            response = client.post(f"{world.national_url}/provision/v1/residents/lookup", json=body)
        assert response.status_code == 403
        assert response.json()["errors"][0]["code"] == "JUKI-PRV-010"
    refusals = [e for e in _national_log(world.tiers.national) if e.action == "refused"]
    assert [(e.actor, e.subject) for e in refusals] == [
        ("agency:unregistered", None),
        (MUNICIPALITY, None),
    ]


def test_a_revoked_client_certificate_is_refused(world: World) -> None:
    from cryptography import x509

    cert_path = world.tiers.pki.node("agency:soumu-onkyu").tls_cert
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    with world.client("agency:soumu-onkyu") as client:
        # Verified once and remembered; the same open connection must still be refused once
        # the CA publishes the revocation.
        assert client.get(f"{world.national_url}/provision/v1/affairs").status_code == 200
        assert client.get(f"{world.national_url}/provision/v1/affairs").status_code == 200
        world.tiers.pki.revoke(world.tiers.signer, cert, now=real_now())
        response = client.get(f"{world.national_url}/provision/v1/affairs")
    assert response.status_code == 401
    assert "revoked" in response.json()["errors"][0]["message_en"]
    with world.tiers.national.session_factory() as session:
        recorded = session.scalars(select(NetworkRejectionRow)).all()
    assert [(r.claimed_sender, "revoked" in r.reason) for r in recorded] == [
        ("agency:soumu-onkyu", True)
    ]


def test_four_items_returns_candidates_with_how_they_matched(world: World) -> None:
    with world.client("agency:soumu-onkyu") as client:
        response = client.post(
            f"{world.national_url}/provision/v1/residents/search",
            json={
                "affair_code": PENSION,
                "officer": "恩給 太郎",
                "name": "高橋一郎",
                "birth_date": "1950-01-02",
                "address": "東京都西東京市",
            },
        )
    assert response.status_code == 200, response.text
    candidates = response.json()["candidates"]
    codes = [c["record"]["resident_code"] for c in candidates]
    assert sorted(codes) == sorted([world.deceased, world.kana_twin])  # never merged
    exact = next(c for c in candidates if c["record"]["resident_code"] == world.kana_twin)
    folded = next(c for c in candidates if c["record"]["resident_code"] == world.deceased)
    assert exact["match"]["name"] == "exact"
    assert folded["match"]["name"] == "folded"
    assert exact["match"]["address"] == "partial"
    assert candidates[0]["record"]["resident_code"] == world.kana_twin  # best first


def test_bad_queries_are_4xx(world: World) -> None:
    url = f"{world.national_url}/provision/v1/residents"
    with world.client("agency:soumu-onkyu") as client:
        no_officer = client.post(
            f"{url}/lookup", json={"affair_code": PENSION, "resident_codes": [world.alive]}
        )
        no_birth = client.post(
            f"{url}/search", json={"affair_code": PENSION, "officer": "x", "name": "山田太郎"}
        )
        unknown = client.post(
            f"{url}/lookup",
            json={"affair_code": "T9-9", "officer": "x", "resident_codes": [world.alive]},
        )
        too_many = client.post(
            f"{url}/lookup",
            json={"affair_code": PENSION, "officer": "x", "resident_codes": ["1"] * 1001},
        )
    assert no_officer.status_code == 422
    assert no_birth.status_code == 422
    assert unknown.status_code in (404, 422)
    assert too_many.status_code == 422


def test_batch_job_answers_every_row_and_logs_each_provision(world: World) -> None:
    rows = ["resident_code,ref", f"{world.alive},a1", f"{world.deceased},a2", "123,a3"]
    with world.client("agency:soumu-onkyu") as client:
        submitted = client.post(
            f"{world.national_url}/provision/v1/batches",
            params={"affair_code": PENSION, "officer": "恩給 太郎", "kind": "code"},
            content="\n".join(rows).encode(),
        )
        assert submitted.status_code == 202, submitted.text
        job = submitted.json()
        assert job["total_rows"] == 3
        early = client.get(f"{world.national_url}/provision/v1/batches/{job['job_id']}/results")
        assert early.status_code == 409
        national = world.tiers.national
        assert batch.run_pending(national, RegistryCache()) == 1
        done = client.get(f"{world.national_url}/provision/v1/batches/{job['job_id']}").json()
        assert (done["status"], done["processed_rows"], done["found_rows"]) == ("done", 3, 2)
        assert done["error_rows"] == 1
        lines = client.get(
            f"{world.national_url}/provision/v1/batches/{job['job_id']}/results"
        ).text.splitlines()
        csv_text = client.get(
            f"{world.national_url}/provision/v1/batches/{job['job_id']}/results",
            params={"format": "csv"},
        ).text
    results = [json.loads(line) for line in lines]
    assert [(r["row"], r["ref"], r["status"]) for r in results] == [
        (1, "a1", "found"),
        (2, "a2", "found"),
        (3, "a3", "error"),
    ]
    assert results[1]["record"]["change"]["reason"] == "C02"
    assert csv_text.splitlines()[0].lstrip("\ufeff").startswith("row,ref,status")
    assert len(csv_text.splitlines()) == 4
    batch_entries = [e for e in _national_log(world.tiers.national) if e.channel == "batch"]
    answered = [
        (world.alive, job["job_id"], {"row": 1}),
        (world.deceased, job["job_id"], {"row": 2}),
    ]
    # Each download (JSON lines, then CSV) is logged again for every resident it hands over.
    downloaded = [
        (world.alive, job["job_id"], {"row": 1, "download": True}),
        (world.deceased, job["job_id"], {"row": 2, "download": True}),
    ]
    assert [(e.subject, e.job_id, e.detail) for e in batch_entries] == [
        *answered,
        *downloaded,
        *downloaded,
    ]


def _finished_job(world: World, client: httpx.Client) -> str:
    submitted = client.post(
        f"{world.national_url}/provision/v1/batches",
        params={"affair_code": PENSION, "officer": "恩給 太郎", "kind": "code"},
        content=f"resident_code,ref\n{world.alive},a1\n".encode(),
    )
    assert submitted.status_code == 202, submitted.text
    assert batch.run_pending(world.tiers.national, RegistryCache()) == 1
    return str(submitted.json()["job_id"])


def test_batch_results_are_refused_once_the_affair_is_revoked(world: World) -> None:
    national = world.tiers.national
    with world.client("agency:soumu-onkyu") as client:
        job_id = _finished_job(world, client)
        official = make_actor(national, Role.SUPERVISOR, username="kanri")
        recipients.revoke(
            national,
            actor=official,
            recipient_id="agency:soumu-onkyu",
            affair_code=PENSION,
            decision="総行住第43号",
        )
        before = len(_national_log(national))
        refused = client.get(f"{world.national_url}/provision/v1/batches/{job_id}/results")
        refused_csv = client.get(
            f"{world.national_url}/provision/v1/batches/{job_id}/results", params={"format": "csv"}
        )
    assert (refused.status_code, refused_csv.status_code) == (403, 403)
    assert refused.json()["errors"][0]["code"] == "JUKI-AFF-001"
    assert "山田" not in refused.text + refused_csv.text
    added = _national_log(national)[before:]
    refusal = ("refused", None, {"batch_job": job_id, "download": True})
    assert [(e.action, e.subject, e.detail) for e in added] == [refusal] * 2


def test_batch_results_expire_with_the_uploaded_rows(world: World, clock: FixedClock) -> None:
    national = world.tiers.national
    with world.client("agency:soumu-onkyu") as client:
        job_id = _finished_job(world, client)
        clock.advance(seconds=(RESULTS_KEPT - timedelta(minutes=1)).total_seconds())
        assert batch_results.expire_results(national) == 0
        kept = client.get(f"{world.national_url}/provision/v1/batches/{job_id}/results")
        assert kept.status_code == 200
        clock.advance(minutes=1)
        assert batch_results.expire_results(national) == 1
        gone = client.get(f"{world.national_url}/provision/v1/batches/{job_id}/results")
        status = client.get(f"{world.national_url}/provision/v1/batches/{job_id}").json()
    assert gone.status_code == 410
    assert gone.json()["errors"][0]["code"] == "JUKI-BAT-103"
    assert status["status"] == "expired"
    with national.session_factory() as session:
        left = session.scalars(select(BatchChunkRow).where(BatchChunkRow.job_id == job_id)).all()
    assert left == []


def test_four_items_batch_gives_each_row_what_the_online_search_gives(world: World) -> None:
    """A chunk is answered with one read for all its rows; each row must still get exactly the
    candidates (and match reports) an online search by the same items returns."""
    queries = [
        {"name": "高橋一郎", "birth_date": "1950-01-02", "address": "東京都西東京市"},
        {"name_kana": "たかはし いちろう", "birth_date": "1950-01-02"},
        {"name": "高橋一郎", "birth_date": "1950-01-02", "sex": "female"},  # sex differs
        {"name": "高橋一郎", "birth_date": "1950-01-03"},  # nobody born that day
    ]
    header = "name,name_kana,birth_date,sex,address,ref"
    body = [
        ",".join(q.get(k, "") for k in ("name", "name_kana", "birth_date", "sex", "address"))
        + f",q{i}"
        for i, q in enumerate(queries)
    ]
    body.append(",,1950-01-02,,,bad")  # no name and no reading: a per-row error
    national = world.tiers.national
    with world.client("agency:soumu-onkyu") as client:
        online = []
        for query in queries:
            response = client.post(
                f"{world.national_url}/provision/v1/residents/search",
                json={"affair_code": PENSION, "officer": "恩給 太郎"} | query,
            )
            assert response.status_code == 200, response.text
            online.append(response.json()["candidates"])
        submitted = client.post(
            f"{world.national_url}/provision/v1/batches",
            params={"affair_code": PENSION, "officer": "恩給 太郎", "kind": "four_items"},
            content="\n".join([header, *body]).encode(),
        )
        assert submitted.status_code == 202, submitted.text
        job_id = submitted.json()["job_id"]
        assert batch.run_pending(national, RegistryCache()) == 1
        lines = client.get(f"{world.national_url}/provision/v1/batches/{job_id}/results").text
    results = [json.loads(line) for line in lines.splitlines()]
    assert [r["status"] for r in results] == [
        "candidates",
        "candidates",
        "not_found",
        "not_found",
        "error",
    ]
    for result, expected in zip(results[:4], online, strict=True):
        assert result.get("candidates", []) == expected
    assert len(online[0]) == 2  # the two 高橋/髙橋 records, never merged
    logged = [
        (e.subject, e.action, e.detail)
        for e in _national_log(national)
        if e.channel == "batch" and e.job_id == job_id
    ]
    # Answering logs each candidate once, and the one download logs each again.
    assert sorted(logged, key=str) == sorted(
        [
            (c["record"]["resident_code"], "candidate", detail)
            for n in (0, 1)
            for c in online[n]
            for detail in ({"row": n + 1}, {"row": n + 1, "download": True})
        ],
        key=str,
    )


def test_prefecture_answers_its_own_use_but_not_table_one(world: World) -> None:
    prefecture_url = world.tiers.urls[PREFECTURE]
    with world.client("pref:13") as client:
        allowed = client.post(
            f"{prefecture_url}/provision/v1/residents/lookup",
            json={"affair_code": "T5-6", "officer": "旅券 花子", "resident_codes": [world.alive]},
        )
        assert allowed.status_code == 200, allowed.text
        assert allowed.json()["results"][0]["outcome"] == "found"
    with world.client("agency:soumu-onkyu") as client:
        table_one = client.post(
            f"{prefecture_url}/provision/v1/residents/lookup",
            json={"affair_code": PENSION, "officer": "x", "resident_codes": [world.alive]},
        )
    assert table_one.status_code == 403
    assert table_one.json()["errors"][0]["code"] == "JUKI-PRV-001"


def test_the_resident_sees_the_provision_with_a_proof_the_ca_vouches_for(world: World) -> None:
    with world.client("agency:soumu-onkyu") as client:
        client.post(
            f"{world.national_url}/provision/v1/residents/lookup",
            json={"affair_code": PENSION, "officer": "恩給 太郎", "resident_codes": [world.alive]},
        )
        audit.publish_tree_head(world.tiers.national)  # the node's schedule (no loop runs here)
        head = client.get(f"{world.national_url}/audit/v1/tree-head").json()
    assert head["tree_size"] >= 1
    national = world.tiers.national
    officer = make_actor(national, Role.CLERK, username="centre-clerk")
    document = audit.disclose(national, actor=officer, request=audit.DisclosureRequest(world.alive))
    provided = [e["entry"] for e in document["entries"] if e["entry"]["actor_kind"] == "recipient"]
    assert [(e["actor"], e["affair_code"], e["channel"]) for e in provided] == [
        ("agency:soumu-onkyu", PENSION, "agency_api")
    ]
    check = audit.check_disclosure(document, ca_pem=world.ca.read_bytes())
    assert check.ok, check.problems
    assert audit.verify(national).ok


def test_reading_the_tree_head_signs_nothing(world: World) -> None:
    """A certificate holder cannot make the node sign a head per request (finding 12)."""
    national = world.tiers.national
    published = audit.publish_tree_head(national)  # what the node's schedule does
    with world.client("agency:soumu-onkyu") as client:
        grown = client.post(
            f"{world.national_url}/provision/v1/residents/lookup",
            json={"affair_code": PENSION, "officer": "恩給 太郎", "resident_codes": [world.alive]},
        )
        assert grown.status_code == 200, grown.text
        first = client.get(f"{world.national_url}/audit/v1/tree-head")
        second = client.get(f"{world.national_url}/audit/v1/tree-head")
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert first.json()["tree_size"] == published.tree_size  # the latest signed, not a new one
    with national.uow() as uow:
        heads = store.tree_heads(uow.session)
        size = store.log_size(uow.session)
    assert [head.tree_size for head in heads] == [published.tree_size]
    assert size > published.tree_size


def test_a_retried_batch_upload_with_its_key_submits_once(world: World) -> None:
    url = f"{world.national_url}/provision/v1/batches"
    params = {"affair_code": PENSION, "officer": "恩給 太郎", "kind": "code"}
    body = f"resident_code,ref\n{world.alive},a1\n".encode()
    headers = {"Idempotency-Key": "upload-2026-12-02-001"}
    with world.client("agency:soumu-onkyu") as client:
        first = client.post(url, params=params, content=body, headers=headers)
        again = client.post(url, params=params, content=body, headers=headers)
        other_file = client.post(
            url, params=params, content=body + f"{world.deceased},a2\n".encode(), headers=headers
        )
        fresh = client.post(url, params=params, content=body)
    assert (first.status_code, again.status_code) == (202, 202), first.text
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert other_file.status_code == 422
    assert other_file.json()["errors"][0]["code"] == "JUKI-IDEM-002"
    assert fresh.json()["job_id"] != first.json()["job_id"]
    with world.tiers.national.session_factory() as session:
        jobs = session.scalars(select(BatchJobRow.id)).all()
    assert sorted(jobs) == sorted([first.json()["job_id"], fresh.json()["job_id"]])


def test_agency_lookup_exits_non_zero_unless_every_code_is_found(world: World) -> None:
    from typer.testing import CliRunner

    from jukinet.cli.main import app

    creds = world.tiers.pki.node("agency:soumu-onkyu").folder
    common = [
        "agency", "lookup", "--url", world.national_url, "--cert-dir", str(creds),
        "--ca", str(world.ca), "--affair", PENSION, "--officer", "恩給 太郎",
    ]  # fmt: skip
    found = CliRunner().invoke(app, [*common, world.alive])
    assert found.exit_code == 0, found.output
    wrong_digit = world.alive[:-1] + str((int(world.alive[-1]) + 1) % 10)
    partly = CliRunner().invoke(app, [*common, world.alive, wrong_digit])
    assert partly.exit_code == 3
    outcomes = [r["outcome"] for r in json.loads(partly.stdout)["results"]]
    assert outcomes == ["found", "invalid"]
    refused = CliRunner().invoke(
        app, [*[RADIO if part == PENSION else part for part in common], world.alive]
    )
    assert refused.exit_code == 2, refused.output  # the affair is not granted to this agency
    unreachable = [*common, world.alive]
    unreachable[unreachable.index("--url") + 1] = "https://127.0.0.1:9"
    assert CliRunner().invoke(app, unreachable).exit_code == 1


def test_a_job_left_unanswered_past_the_keeping_period_is_failed(
    world: World, clock: FixedClock
) -> None:
    national = world.tiers.national
    with world.client("agency:soumu-onkyu") as client:
        submitted = client.post(
            f"{world.national_url}/provision/v1/batches",
            params={"affair_code": PENSION, "officer": "恩給 太郎", "kind": "code"},
            content=f"resident_code,ref\n{world.alive},a1\n".encode(),
        )
        assert submitted.status_code == 202, submitted.text
        job_id = submitted.json()["job_id"]
        clock.advance(seconds=RESULTS_KEPT.total_seconds())
        assert batch_results.expire_results(national) == 0
        status = client.get(f"{world.national_url}/provision/v1/batches/{job_id}").json()
    assert status["status"] == "failed"
