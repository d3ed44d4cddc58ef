"""Running a node: its operator pages and API, its mutual-TLS network endpoint, and delivery.

Every node is the same program in a different role. One process serves two listeners — the
operator side (pages and JSON API, for the node's own staff) and the network side (mutual TLS,
neighbours only) — and runs one delivery worker per neighbour it sends to.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy import event

from jukinet.config import Settings, load_settings
from jukinet.domain.network import NodeId, parent_of
from jukinet.network.delivery import DeliveryWorker, LinkSender
from jukinet.network.transport import SharedSignalServer, make_server
from jukinet.runtime.background import batch_worker, retention_keeper, tree_head_publisher
from jukinet.runtime.bootstrap import build_node, handler_table
from jukinet.services.context import ServiceContext
from jukinet.web.network_app import create_network_app

log = logging.getLogger(__name__)

CONFIG_FILE = "node.json"


@dataclass
class NodeConfig:
    """What ``jukinet node init`` writes and ``jukinet node serve`` reads (``node.json``)."""

    node: str
    database_url: str
    pki_dir: str
    network_port: int
    operator_port: int
    peers: dict[str, str] = field(default_factory=dict)
    participation: str = "connected"
    allow_opt_out: bool = False
    host: str = "127.0.0.1"
    secret_key: str | None = None
    environment: str = "dev"
    delivery_max_backoff_seconds: float = 30.0
    #: How often a signed tree head is published when the access log has grown.
    tree_head_interval_seconds: float = 60.0

    def save(self, folder: Path) -> Path:
        """Write ``node.json`` into ``folder`` (mode 0600: it holds the session secret)."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / CONFIG_FILE
        path.touch(mode=0o600, exist_ok=True)
        path.write_text(json.dumps(self.__dict__, indent=2, ensure_ascii=False), encoding="utf-8")
        return path

    @classmethod
    def load(cls, folder: Path) -> NodeConfig:
        """Read ``node.json`` from ``folder``."""
        data: dict[str, Any] = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
        return cls(**data)

    def settings(self, **overrides: object) -> Settings:
        """Settings for this node."""
        node_id = NodeId.parse(self.node)
        values: dict[str, object] = {
            "environment": self.environment,
            "database_url": self.database_url,
            "role": node_id.role.value,
            "pki_dir": Path(self.pki_dir),
            "peers": self.peers,
            "participation": self.participation,
            "allow_opt_out": self.allow_opt_out,
            "delivery_max_backoff_seconds": self.delivery_max_backoff_seconds,
        }
        if node_id.role.value == "municipality":
            values["municipality_code"] = node_id.code
        else:
            values["node_code"] = node_id.code
        if self.secret_key:
            values["secret_key"] = self.secret_key
        return load_settings(**(values | overrides))


def delivery_peers(node: ServiceContext) -> list[str]:
    """The neighbours this node sends to: its parent, and any child it routes messages down to."""
    if not node.connected or node.network is None:
        return []
    peers = set(node.network.peers)
    parent = parent_of(node.node_id)
    if parent is not None:
        peers.add(str(parent))
    return sorted(p for p in peers if p in node.network.peers)


async def serve_node(node: ServiceContext, config: NodeConfig) -> None:
    """Serve both listeners and deliver until SIGINT/SIGTERM."""
    from jukinet.web.app import create_app

    net = node.network
    if net is None:
        msg = "a network node needs its PKI folder"
        raise RuntimeError(msg)
    network_app = create_network_app(node, net, handler_table(node))
    network_server = make_server(
        network_app,
        host=config.host,
        port=config.network_port,
        ssl_context=net.server_ssl_context(),
    )
    operator_server = SharedSignalServer(
        uvicorn.Config(
            create_app(node),
            host=config.host,
            port=config.operator_port,
            log_level="warning",
            lifespan="on",
        )
    )
    workers = [DeliveryWorker(LinkSender(node, net, peer)) for peer in delivery_peers(node)]
    background = [
        batch_worker(node, network_app.state.registry_cache),
        tree_head_publisher(node, interval=config.tree_head_interval_seconds),
        retention_keeper(node),
    ]

    def wake_workers(_session: object) -> None:
        # Any commit may have queued something: wake the workers instead of waiting for their
        # next poll (the poll stays as a fallback).
        for worker in workers:
            worker.wake.set()
        background[0].wake.set()  # a batch upload may have been committed

    event.listen(node.session_factory, "after_commit", wake_workers)
    for worker in workers:
        worker.start()
    for task in background:
        task.start()

    def stop(*_: object) -> None:
        network_server.should_exit = True
        operator_server.should_exit = True

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    try:
        await asyncio.gather(network_server.serve(), operator_server.serve())
    finally:
        for worker in workers:
            worker.stop()
        for task in background:
            task.stop()
        for worker in workers:
            worker.join(timeout=10)
        for task in background:
            task.join(timeout=10)
        node.engine.dispose()


def run_node(folder: Path) -> None:
    """Load ``folder/node.json`` and serve the node until stopped."""
    config = NodeConfig.load(folder)
    node = build_node(config.settings())
    log.info(
        "serving %s (network :%d, operator :%d)",
        config.node,
        config.network_port,
        config.operator_port,
    )
    asyncio.run(serve_node(node, config))


def main() -> None:
    """``python -m jukinet.runtime.runner FOLDER``: serve the node configured in FOLDER."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if len(sys.argv) != 2:
        sys.stderr.write("usage: python -m jukinet.runtime.runner NODE_FOLDER\n")
        raise SystemExit(2)
    run_node(Path(sys.argv[1]))


if __name__ == "__main__":
    main()
