"""The revocation list outlives its seven days (issue 11, finding 3), with real node processes.

Nishitokyo, Tokyo and the centre run as their own processes on the backend under test, with
their whole clock — Python's and OpenSSL's — moved forward by libfaketime
(``test_clock_offset_seconds``). The CRL was written by ``Cluster.create`` at the real time, so
at +8 days its ``nextUpdate`` lies a day in the past: without republishing, every mutual-TLS
handshake fails with "CRL has expired".

This test process keeps the real clock; it probes the nodes' TLS ports with a context that
checks the server's chain but not the (future-dated, from here) CRL, so a refused probe is the
node's refusal of our client certificate and nothing else.
"""

from __future__ import annotations

import datetime as dt
import shutil
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from sqlalchemy import func, select

from jukinet.domain.operators import Role
from jukinet.network.pki import FileCaSigner, NetworkPki
from jukinet.runtime.cluster import Cluster
from jukinet.services.context import ServiceContext
from jukinet.storage.tables import IdentityHistoryRow, IdentityRecordRow, OutboxRow
from tests.support.databases import demo_template, drop_template_databases
from tests.support.factories import make_actor, move_in_household, person

# No skip without libfaketime: the node refuses to start with a moved clock it cannot have,
# and this test fails — CI installs the Debian package ``faketime``.
pytestmark = pytest.mark.e2e

TOWN = "municipality:132292"
TOKYO = "prefecture:13"
CENTRE = "national:jlis"
NAMES = (CENTRE, TOKYO, TOWN)
DAY = 86_400
GOOD_AGENCY = "agency:crl-probe"
REVOKED_AGENCY = "agency:crl-revoked"


@contextmanager
def _cluster(folder: Path, database_url: str) -> Iterator[Cluster]:
    """Three nodes created (not started) on the backend of ``database_url``; a good and a
    revoked agency client certificate in the PKI."""
    template = demo_template(database_url)
    built = Cluster(
        folder=folder, names=NAMES, database_url_template=template, max_backoff_seconds=1.0
    )
    built.create(environment="test")
    signer = FileCaSigner.load(built.pki.folder / "ca.key")
    now = dt.datetime.now(dt.UTC)
    built.pki.issue_client(signer, GOOD_AGENCY, now=now)
    revoked = built.pki.issue_client(signer, REVOKED_AGENCY, now=now)
    cert = x509.load_pem_x509_certificate(revoked.tls_cert.read_bytes())
    built.pki.revoke(signer, cert, now=now)
    try:
        yield built
    finally:
        built.stop()
        drop_template_databases(template)


def _move_clocks(cluster: Cluster, days: float) -> None:
    """Every node's clock ``days`` ahead from its next start."""
    for node in cluster.nodes.values():
        node.config = node.config.with_settings(test_clock_offset_seconds=days * DAY)
        node.config.save(node.folder)


def _wait(condition: Callable[[], bool], *, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _count(node: ServiceContext, table: type, *where: Any) -> int:
    with node.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(table).where(*where)) or 0)


def _arrived(node: ServiceContext, code: str) -> bool:
    return _count(node, IdentityRecordRow, IdentityRecordRow.resident_code == code) == 1


def _crl_next_update(pki: NetworkPki) -> dt.datetime:
    return x509.load_pem_x509_crl(pki.crl_path.read_bytes()).next_update_utc or dt.datetime.min


def _health(cluster: Cluster, name: str) -> dict[str, Any]:
    answer = httpx.get(cluster.nodes[name].operator_url + "/healthz", timeout=5.0)
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    return body


def _log(cluster: Cluster, name: str) -> str:
    return (cluster.nodes[name].folder / "node.log").read_text(encoding="utf-8", errors="replace")


def _probe(cluster: Cluster, target: str, client: str) -> bool:
    """Whether ``target``'s network port completes a mutual-TLS request from ``client``'s key."""
    pki = cluster.pki
    creds = pki.node(client)
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(pki.ca_cert_path))
    context.load_cert_chain(str(creds.tls_cert), str(creds.tls_key))
    port = cluster.nodes[target].config.network_port
    try:
        answer = httpx.get(
            f"https://127.0.0.1:{port}/network/v1/health", verify=context, timeout=5.0
        )
    except httpx.TransportError:
        return False
    return answer.status_code == 200


def _move_in(town: ServiceContext) -> str:
    clerk = make_actor(town, Role.CLERK)
    return move_in_household(town, clerk, person()).records[0].record.resident_code


def test_eight_days_on_the_network_delivers_because_the_crl_was_republished(
    tmp_path: Path, database_url: str
) -> None:
    with _cluster(tmp_path / "cluster", database_url) as cluster:
        written_until = _crl_next_update(cluster.pki)
        _move_clocks(cluster, 8)
        cluster.start()
        # The node holding the CA key republished before anything else could fail.
        _wait(
            lambda: _crl_next_update(cluster.pki) > written_until + dt.timedelta(days=7),
            what="the CRL to be republished",
        )
        handles = {name: cluster.handle(name) for name in NAMES}
        code = _move_in(handles[TOWN])
        # (a) Delivery across mutual TLS: town → Tokyo → centre, each hop a fresh handshake.
        _wait(
            lambda: _arrived(handles[CENTRE], code),
            what="the move-in to reach the centre",
        )
        assert _count(handles[TOWN], OutboxRow, OutboxRow.delivered_at.is_(None)) == 0
        for name in NAMES:
            health = _health(cluster, name)
            assert health["status"] == "ok", health
            assert health["revocation_list"]["state"] == "fresh"
            assert "CRL has expired" not in _log(cluster, name)
        # The republished list kept its entries: the revoked agency is still refused in the
        # handshake, while a good agency's certificate gets through to the same port.
        assert _probe(cluster, TOKYO, GOOD_AGENCY)
        assert not _probe(cluster, TOKYO, REVOKED_AGENCY)
        revoked = cluster.pki.node(REVOKED_AGENCY).tls_cert.read_bytes()
        serial = x509.load_pem_x509_certificate(revoked).serial_number
        crl = x509.load_pem_x509_crl(cluster.pki.crl_path.read_bytes())
        assert crl.get_revoked_certificate_by_serial_number(serial) is not None
        for handle in handles.values():
            handle.engine.dispose()


def test_without_the_ca_key_nodes_warn_before_expiry_and_refuse_after(
    tmp_path: Path, database_url: str
) -> None:
    with _cluster(tmp_path / "cluster", database_url) as cluster:
        # The CA key is offline: nobody can republish.
        offline = tmp_path / "offline-ca.key"
        shutil.move(cluster.pki.folder / "ca.key", offline)
        handles = {name: cluster.handle(name) for name in NAMES}
        # Day 6: one day left. Every node raises the alert, and the network still works.
        _move_clocks(cluster, 6)
        cluster.start()
        first = _move_in(handles[TOWN])
        _wait(
            lambda: _arrived(handles[CENTRE], first),
            what="day 6's move-in to reach the centre",
        )
        for name in NAMES:
            health = _health(cluster, name)
            assert health["status"] == "warning", health
            assert health["revocation_list"]["state"] == "expiring"
            assert 0 < health["revocation_list"]["hours_left"] < 48
            _wait(
                lambda name=name: "revocation list expires in" in _log(cluster, name),
                what=f"{name}'s log warning",
            )
        cluster.stop()
        # Day 8: expired. Every node says so and refuses every handshake (fail closed) ...
        _move_clocks(cluster, 8)
        cluster.start()
        second = _move_in(handles[TOWN])
        for name in NAMES:
            health = _health(cluster, name)
            assert health["status"] == "failing", health
            assert health["revocation_list"]["state"] == "expired"
            _wait(
                lambda name=name: "revocation list EXPIRED" in _log(cluster, name),
                what=f"{name}'s log alert",
            )
        assert not _probe(cluster, TOKYO, TOWN)
        assert not _probe(cluster, TOKYO, GOOD_AGENCY)
        time.sleep(3)  # the town keeps retrying against the refusing link
        assert _count(handles[TOWN], OutboxRow, OutboxRow.delivered_at.is_(None)) == 1
        assert _count(handles[TOKYO], IdentityHistoryRow) == 1
        # ... and nothing is lost: with the CA key back, the list is republished and the
        # queued notice is delivered exactly once.
        shutil.move(offline, cluster.pki.folder / "ca.key")
        cluster.stop()
        cluster.start()
        _wait(
            lambda: _arrived(handles[CENTRE], second),
            what="the queued move-in to drain",
        )
        assert _probe(cluster, TOKYO, GOOD_AGENCY)
        assert _count(handles[TOKYO], IdentityHistoryRow) == 2
        assert _count(handles[CENTRE], IdentityHistoryRow) == 2
        for handle in handles.values():
            handle.engine.dispose()
