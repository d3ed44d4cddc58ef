"""A node stops promptly even while a peer holds an idle keep-alive TLS connection to it.

Before a graceful-shutdown bound, such a connection held the server until ``Cluster.stop`` gave
up after 15 s and killed the process, so the node never ran its orderly stop. The stop does not
depend on the database, so this runs on SQLite only.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from jukinet.network.transport import GRACEFUL_SHUTDOWN_SECONDS
from tests.support.databases import running_cluster

pytestmark = pytest.mark.e2e

TOWN, TOKYO = "municipality:132292", "prefecture:13"


def test_a_node_stops_in_seconds_with_an_idle_peer_connection_open(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'unused.sqlite3'}"
    with running_cluster(tmp_path / "cluster", url, (TOKYO, TOWN)) as cluster:
        net = cluster.handle(TOWN).network
        assert net is not None
        with httpx.Client(verify=net.client_ssl_context(), timeout=30) as client:
            assert client.get(net.peers[TOKYO] + "/network/v1/health").status_code == 200
            processes = [node.process for node in cluster.nodes.values()]
            began = time.monotonic()
            cluster.stop()
            took = time.monotonic() - began
        assert took < GRACEFUL_SHUTDOWN_SECONDS + 3
        for process in processes:
            assert process is not None
            assert process.returncode == 0  # stopped in order, not killed
