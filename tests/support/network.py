"""Real nodes for network tests: a PKI, per-node databases, and mutual-TLS servers on loopback."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from jukinet.config import load_settings
from jukinet.domain.network import NodeId, NodeRole
from jukinet.network.context import NetworkContext
from jukinet.network.delivery import LinkSender
from jukinet.network.pki import FileCaSigner, NetworkPki
from jukinet.network.relay import close_hop_clients
from jukinet.network.transport import make_server
from jukinet.runtime.bootstrap import build_node, handler_table
from jukinet.services.context import ServiceContext
from jukinet.web.network_app import create_network_app

TEST_SECRET = "network-test-secret-key-long-enough-000"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_pki(folder: Path, nodes: list[str], now: datetime) -> tuple[NetworkPki, FileCaSigner]:
    """A network CA with credentials for ``nodes``."""
    signer = FileCaSigner.generate()
    pki = NetworkPki(folder)
    pki.init(signer, now=now)
    for node in nodes:
        pki.issue_node(signer, node, now=now)
    # The handshake checks the CRL against the wall clock, not the test's fixed clock: a list
    # dated TEST_NOW would expire seven days after it and fail every network test from then
    # on (the application, on the fixed clock, only asks that the list has not expired).
    pki.publish_crl(signer, now=max(now, real_now()))
    return pki, signer


def real_now() -> datetime:
    """The machine's clock, for what OpenSSL checks (revocation lists)."""
    return datetime.now(UTC)


def make_node(
    name: str,
    *,
    database_url: str,
    pki: NetworkPki,
    peers: dict[str, str],
    clock: Callable[[], datetime],
    **settings: object,
) -> ServiceContext:
    """A node with its own database and network credentials."""
    node_id = NodeId.parse(name)
    extra: dict[str, object] = {"role": node_id.role.value}
    if node_id.role is NodeRole.MUNICIPALITY:
        extra["municipality_code"] = node_id.code
    else:
        extra["node_code"] = node_id.code
    config = load_settings(
        environment="test",
        database_url=database_url,
        pki_dir=pki.folder,
        peers=peers,
        argon2_time_cost=1,
        argon2_memory_cost=8192,
        secret_key=TEST_SECRET,
        **({"webauthn_rp_id": "testserver"} | extra | settings),
    )
    return build_node(config, clock=clock)


@contextmanager
def serving(node: ServiceContext, port: int) -> Iterator[str]:
    """Serve the node's network endpoint on 127.0.0.1:port with mutual TLS, in a thread."""
    net = node.network
    assert net is not None
    server = make_server(
        create_network_app(node, net, handler_table(node)),
        host="127.0.0.1",
        port=port,
        ssl_context=net.server_ssl_context(),
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"https://127.0.0.1:{port}"
    finally:
        close_hop_clients()  # kept relay connections would hold the server open
        server.should_exit = True
        thread.join(timeout=10)


def sender(node: ServiceContext, peer: str) -> LinkSender:
    """A link sender from ``node`` to ``peer``."""
    net = node.network
    assert isinstance(net, NetworkContext)
    return LinkSender(node, net, peer)


def wire(names: list[str], ports: dict[str, int]) -> dict[str, dict[str, str]]:
    """Each node's neighbours with their URLs, for the nodes in ``names``."""
    from jukinet.domain.network import are_neighbours

    ids = {n: NodeId.parse(n) for n in names}
    return {
        n: {
            m: f"https://127.0.0.1:{ports[m]}"
            for m in names
            if m != n and are_neighbours(ids[n], ids[m])
        }
        for n in names
    }


def drain(nodes: dict[str, ServiceContext], *, rounds: int = 20) -> int:
    """Deliver every outbox on every link until nothing moves; returns envelopes sent."""
    total = 0
    for _ in range(rounds):
        moved = 0
        for node in nodes.values():
            assert node.network is not None
            for peer in node.network.peers:
                link = sender(node, peer)
                try:
                    while (report := link.deliver_once()).sent:
                        moved += report.sent
                finally:
                    link.close()
        total += moved
        if moved == 0:
            return total
    raise AssertionError("the network did not settle")
