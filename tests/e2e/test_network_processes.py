"""Reliability with real node processes: crashes and links that go down lose nothing.

Each node is its own process (``python -m jukinet.runtime.runner``) with its own database on the
backend under test, talking HTTPS with mutual TLS on loopback.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from sqlalchemy import func, select
from typer.testing import CliRunner

from jukinet.cli.main import app
from jukinet.domain.identity import identity_digest
from jukinet.domain.operators import Role
from jukinet.network.envelope import new_envelope
from jukinet.network.pki import FileCaSigner
from jukinet.runtime.cluster import Cluster
from jukinet.seed import generate_households
from jukinet.services import register
from jukinet.services.context import ServiceContext
from jukinet.services.operators import add_operator, authenticate
from jukinet.services.population import load_population
from jukinet.storage.tables import (
    IdentityHistoryRow,
    IdentityRecordRow,
    NetworkRejectionRow,
    OutboxRow,
    ResidentRow,
)
from tests.support.databases import running_cluster
from tests.support.factories import move_in_household, person

pytestmark = pytest.mark.e2e

TOWN = "municipality:132292"
TOKYO = "prefecture:13"
CENTRE = "national:jlis"
PASSWORD = "process test password"


@pytest.fixture
def cluster(tmp_path: Path, database_url: str) -> Iterator[Cluster]:
    """Three node processes on the backend of ``database_url``."""
    with running_cluster(tmp_path / "cluster", database_url, (CENTRE, TOKYO, TOWN)) as built:
        yield built


def _count(node: ServiceContext, table: type, *where: object) -> int:
    with node.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(table).where(*where)) or 0)


def _wait(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _settled(cluster: Cluster, handles: dict[str, ServiceContext]) -> bool:
    return all(
        _count(handles[n], OutboxRow, OutboxRow.delivered_at.is_(None)) == 0 for n in (TOWN, TOKYO)
    )


def _municipal_digests(town: ServiceContext) -> dict[str, str]:
    with town.uow() as uow:
        rows = list(uow.session.scalars(select(ResidentRow)))
        return {
            r.resident_code: identity_digest(
                uow.residents.to_record(r).identity(), deleted=r.status != "active"
            )
            for r in rows
        }


def _upstream_digests(node: ServiceContext) -> dict[str, str]:
    with node.session_factory() as session:
        return dict(
            session.execute(select(IdentityRecordRow.resident_code, IdentityRecordRow.digest)).all()
        )


def test_prefecture_killed_mid_stream_loses_and_duplicates_nothing(cluster: Cluster) -> None:
    handles = {n: cluster.handle(n) for n in (TOWN, TOKYO, CENTRE)}
    town = handles[TOWN]
    total = load_population(
        town,
        actor=None,
        households=generate_households("132292", 5_000, today=date(2026, 11, 26), seed=7),
    )
    assert total == 5_000
    _wait(
        lambda: _count(handles[CENTRE], IdentityRecordRow) > 1000,
        timeout=120,
        what="the first notices to reach the centre",
    )
    cluster.kill(TOKYO)  # kill -9 in the middle of the stream
    assert _count(handles[CENTRE], IdentityRecordRow) < total  # it was mid-stream
    cluster.start([TOKYO])
    _wait(
        lambda: _count(handles[CENTRE], IdentityRecordRow) == total and _settled(cluster, handles),
        timeout=300,
        what="the network to settle",
    )
    expected = _municipal_digests(town)
    for tier in (TOKYO, CENTRE):
        assert _upstream_digests(handles[tier]) == expected
        # Exactly once: one history entry per notice, however often envelopes were resent.
        assert _count(handles[tier], IdentityHistoryRow) == total
    # ... and reconciliation, asked through the command line, agrees.
    folder = str(cluster.nodes[TOWN].folder)
    add_operator(
        town,
        actor=None,
        username="unyou",
        display_name="運用 担当",
        role=Role.SYSTEM_ADMINISTRATOR,
        password=PASSWORD,
    )
    signed = {"JUKINET_OPERATOR": "unyou", "JUKINET_OPERATOR_PASSWORD": PASSWORD}
    checked = CliRunner().invoke(app, ["reconcile", "--dir", folder, "--dry-run"], env=signed)
    assert checked.exit_code == 0, checked.output
    assert "consistent" in checked.output
    status = CliRunner().invoke(app, ["network", "status", "--dir", folder], env=signed)
    assert status.exit_code == 0, status.output
    assert TOKYO in status.output


def test_changes_made_while_the_link_is_down_arrive_in_order(cluster: Cluster) -> None:
    handles = {n: cluster.handle(n) for n in (TOWN, TOKYO, CENTRE)}
    town = handles[TOWN]
    add_operator(
        town,
        actor=None,
        username="clerk",
        display_name="窓口 職員",
        role=Role.CLERK,
        password=PASSWORD,
    )
    clerk = authenticate(town, username="clerk", password=PASSWORD)
    arrived = move_in_household(town, clerk, person()).records[0].record
    code = arrived.resident_code
    _wait(
        lambda: _count(handles[CENTRE], IdentityRecordRow) == 1, timeout=60, what="the first notice"
    )
    cluster.kill(TOKYO)
    addresses = ["東京都西東京市田無町一丁目1番1号", "東京都西東京市向台町二丁目2番2号"]
    for address in addresses:
        register.file_move_within(
            town,
            actor=clerk,
            household_number=arrived.household_number,
            address=address,
            moved_on=date(2026, 11, 26),
            filed_on=date(2026, 11, 26),
        )
    register.file_name_change(
        town,
        actor=clerk,
        resident_code=code,
        family_name="髙橋",
        given_name="太郎",
        family_name_kana="タカハシ",
        given_name_kana="タロウ",
        changed_on=date(2026, 11, 26),
        filed_on=date(2026, 11, 26),
    )
    time.sleep(2)  # the municipality keeps retrying against a dead link
    assert _count(town, OutboxRow, OutboxRow.delivered_at.is_(None)) == 3
    cluster.start([TOKYO])
    _wait(
        lambda: _settled(cluster, handles) and _count(handles[CENTRE], IdentityHistoryRow) == 4,
        timeout=120,
        what="the queued changes to drain",
    )
    with handles[CENTRE].session_factory() as session:
        history = list(
            session.scalars(
                select(IdentityHistoryRow)
                .where(IdentityHistoryRow.resident_code == code)
                .order_by(IdentityHistoryRow.version)
            )
        )
        record = session.get(IdentityRecordRow, code)
    assert [h.reason for h in history] == ["A02", "B01", "B01", "B02"]
    assert [h.identity["address"] for h in history[1:3]] == addresses
    assert record is not None
    assert record.family_name == "髙橋"
    assert record.address == addresses[-1]


def test_running_prefecture_refuses_tampering_and_revoked_certificates(cluster: Cluster) -> None:
    handles = {n: cluster.handle(n) for n in (TOWN, TOKYO)}
    net = handles[TOWN].network
    assert net is not None
    url = net.peers[TOKYO] + "/network/v1/inbox"
    envelope = net.sign(
        new_envelope(
            sender=TOWN,
            recipient=TOKYO,
            kind="identity_notice",
            sequence=1,
            now=handles[TOWN].now(),
            body={"identity": {"address": "東京都西東京市泉町1番"}},
        )
    )
    tampered = envelope.as_dict() | {"body": {"identity": {"address": "東京都千代田区1番"}}}
    with httpx.Client(verify=net.client_ssl_context()) as client:
        refused = client.post(url, json={"envelopes": [tampered]})
    assert refused.status_code == 403
    assert refused.json()["error"] == "bad signature"
    # Revoke the municipality's certificate: the running prefecture honours the new CRL at once.
    pki = cluster.pki
    cert = x509.load_pem_x509_certificate(pki.node(TOWN).tls_cert.read_bytes())
    pki.revoke(FileCaSigner.load(pki.folder / "ca.key"), cert, now=handles[TOWN].now())
    with httpx.Client(verify=net.client_ssl_context()) as client:
        revoked = client.post(url, json={"envelopes": [envelope.as_dict()]})
    assert revoked.status_code == 401
    assert "revoked" in revoked.json()["error"]
    # Both refusals are on record (the running town's own background work — tree-head
    # publication, the code-pool keeper — may add refusals of its revoked certificate).
    with handles[TOKYO].session_factory() as session:
        reasons = list(
            session.scalars(select(NetworkRejectionRow.reason).order_by(NetworkRejectionRow.id))
        )
    assert reasons[0] == "bad signature", reasons
    assert "revoked" in reasons[1], reasons
    assert all("revoked" in r for r in reasons[1:]), reasons
    assert _count(handles[TOKYO], IdentityHistoryRow) == 0
