"""A republished CRL reaches the TLS contexts a running node already made, server and client.

Real handshakes on loopback with the node's own contexts (``NetworkContext.server_ssl_context``
and ``client_ssl_context``), a PKI written eight days ago by the wall clock — which is the clock
OpenSSL checks the list against — so its list has expired a day ago. No database is involved.
"""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography import x509

from jukinet.domain.network import NodeId
from jukinet.domain.revocation import CrlState
from jukinet.network.context import NetworkContext
from jukinet.network.crl import check_crl, revocation_health
from jukinet.network.pki import FileCaSigner, NetworkPki

TOWN = "municipality:132292"
TOKYO = "prefecture:13"
OTHER_TOWN = "municipality:132012"


@pytest.fixture
def written_eight_days_ago(tmp_path: Path) -> tuple[NetworkPki, FileCaSigner]:
    """A PKI (and its CRL) written eight days before now."""
    signer = FileCaSigner.generate()
    pki = NetworkPki(tmp_path / "pki")
    then = dt.datetime.now(dt.UTC) - dt.timedelta(days=8)
    pki.init(signer, now=then)
    for node in (TOWN, TOKYO, OTHER_TOWN):
        pki.issue_node(signer, node, now=then)
    return pki, signer


@contextmanager
def _tls_server(context: ssl.SSLContext) -> Iterator[int]:
    """Accept mutual-TLS connections with ``context`` and answer each with one byte."""
    listener = socket.create_server(("127.0.0.1", 0))
    stopping = threading.Event()

    def serve() -> None:
        while not stopping.is_set():
            try:
                raw, _ = listener.accept()
            except OSError:
                return
            try:
                with context.wrap_socket(raw, server_side=True) as conn:
                    conn.sendall(b"!")
            except (ssl.SSLError, OSError):
                raw.close()  # refused in the handshake: the client sees the alert

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stopping.set()
        listener.close()
        thread.join(timeout=5)


def _handshake(client: ssl.SSLContext, port: int) -> str:
    """'ok', or the reason the handshake (or the first read after it, TLS 1.3) failed."""
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
            client.wrap_socket(raw, server_hostname="127.0.0.1") as conn,
        ):
            return "ok" if conn.recv(1) == b"!" else "closed"
    except (ssl.SSLError, OSError) as error:
        return str(error)


def _context(pki: NetworkPki, node: str) -> NetworkContext:
    return NetworkContext.load(NodeId.parse(node), pki.folder, {})


def test_running_contexts_take_up_a_republished_list_without_a_restart(
    written_eight_days_ago: tuple[NetworkPki, FileCaSigner],
) -> None:
    pki, signer = written_eight_days_ago
    tokyo, town = _context(pki, TOKYO), _context(pki, TOWN)
    server, client = tokyo.server_ssl_context(), town.client_ssl_context()
    now = dt.datetime.now(dt.UTC)
    with _tls_server(server) as port:
        assert "CRL has expired" in _handshake(client, port)
        # Tokyo holds the CA's signer here: it republishes; the town only loads the file.
        assert check_crl(tokyo, now=now, signer=signer).republished
        stale_client = _handshake(client, port)
        assert stale_client != "ok"  # the town's client context still has only the old list
        town_check = check_crl(town, now=now, signer=None)
        assert (town_check.state, town_check.republished) == (CrlState.FRESH, False)
        assert _handshake(client, port) == "ok"
        # Once current, the list is not signed again on every check.
        assert not check_crl(tokyo, now=now, signer=signer).republished


def test_a_revoked_certificate_stays_refused_after_republishing(
    written_eight_days_ago: tuple[NetworkPki, FileCaSigner],
) -> None:
    pki, signer = written_eight_days_ago
    tokyo, town, other = _context(pki, TOKYO), _context(pki, TOWN), _context(pki, OTHER_TOWN)
    server = tokyo.server_ssl_context()
    clients = {TOWN: town.client_ssl_context(), OTHER_TOWN: other.client_ssl_context()}
    revoked = x509.load_pem_x509_certificate(pki.node(OTHER_TOWN).tls_cert.read_bytes())
    now = dt.datetime.now(dt.UTC)
    pki.publish_crl(signer, now=now)  # republished: nobody revoked yet
    for net in (tokyo, town, other):
        check_crl(net, now=now, signer=None)
    # Revoked within the same second: the new list must still be the one OpenSSL picks (of two
    # lists dated alike it keeps the first), so it is dated a second later.
    pki.revoke(signer, revoked, now=now)
    for net in (tokyo, town, other):
        check_crl(net, now=now, signer=None)
    with _tls_server(server) as port:
        assert _handshake(clients[TOWN], port) == "ok"
        assert _handshake(clients[OTHER_TOWN], port) != "ok"
    # Republished later (the keeper's schedule), the list keeps its entries.
    later = now + dt.timedelta(days=4)
    assert pki.republish_crl_if_due(signer, now=later)
    assert pki.crl().get_revoked_certificate_by_serial_number(revoked.serial_number)
    with pytest.raises(ValueError, match="revoked"):
        tokyo.anchor().verify_node_certificate(revoked, now=now)


def test_an_expired_list_fails_closed_in_the_application_and_in_health(
    written_eight_days_ago: tuple[NetworkPki, FileCaSigner],
) -> None:
    pki, _signer = written_eight_days_ago
    tokyo = _context(pki, TOKYO)
    town_cert = x509.load_pem_x509_certificate(pki.node(TOWN).tls_cert.read_bytes())
    now = dt.datetime.now(dt.UTC)
    # A connection kept alive from before the expiry reaches the application: refused there.
    with pytest.raises(ValueError, match="revocation list expired"):
        tokyo.anchor().verify_node_certificate(town_cert, now=now)
    health = revocation_health(tokyo, now=now)
    assert health["status"] == "failing"
    assert health["revocation_list"]["state"] == "expired"
    assert health["revocation_list"]["hours_left"] == pytest.approx(-24, abs=0.2)
    written = pki.crl().next_update_utc
    assert written is not None
    expiring = revocation_health(tokyo, now=written - dt.timedelta(hours=30))
    assert (expiring["status"], expiring["revocation_list"]["state"]) == ("warning", "expiring")
    assert tokyo.anchor().verify_node_certificate(town_cert, now=written - dt.timedelta(hours=30))
