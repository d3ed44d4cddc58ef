"""A network of node processes on one machine: the demo, and the tests that kill nodes.

Each node is a separate ``python -m jukinet.runtime.runner <folder>`` process with its own
database, its own credentials from a shared network PKI, a mutual-TLS network port and a plain
operator port on loopback.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from jukinet.config import Environment
from jukinet.domain.network import NodeId, NodeRole, are_neighbours
from jukinet.network.pki import FileCaSigner, NetworkPki
from jukinet.runtime.bootstrap import build_node
from jukinet.runtime.runner import NodeConfig
from jukinet.services.context import ServiceContext
from jukinet.storage.migrate import upgrade
from jukinet.storage.private_files import private_folder

DEMO_NODES = (
    "national:jlis",
    "prefecture:13",
    "prefecture:14",
    "municipality:132292",
    "municipality:132152",
    "municipality:141003",
)
#: Kunitachi stayed off the network 2002–2012; Yokohama let residents opt out 2002–2006.
DEMO_SETTINGS: dict[str, dict[str, object]] = {
    "municipality:132152": {"participation": "disconnected"},
    "municipality:141003": {"allow_opt_out": True},
}


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def folder_name(node: str) -> str:
    """A file-system-friendly name for a node."""
    return node.replace(":", "_")


def database_url_for(template: str | None, folder: Path, node: str) -> str:
    """The node's database URL: a SQLite file in its folder, or ``template`` with ``{node}``."""
    if template is None:
        return f"sqlite:///{folder / 'node.sqlite3'}"
    return template.replace("{node}", re.sub(r"[^a-z0-9_]", "_", folder_name(node)))


def ensure_postgres_database(url: str, *, fresh: bool) -> None:
    """Create the PostgreSQL database of ``url`` (dropping it first when ``fresh``)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = parsed.database
    with admin.connect() as conn:
        if fresh:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        exists = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ).first()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


@dataclass
class ClusterNode:
    """One node of the cluster and its process."""

    name: str
    folder: Path
    config: NodeConfig
    process: subprocess.Popen[bytes] | None = None

    @property
    def public_url(self) -> str | None:
        """Where a prefecture's JPKI endpoints (CA, CRL, OCSP) or a municipality's resident
        portal are served; ``None`` at the centre."""
        port = self.config.public_port
        return None if port is None else f"http://127.0.0.1:{port}"

    @property
    def operator_url(self) -> str:
        """Where the node's pages and API are served."""
        # localhost, not 127.0.0.1: WebAuthn accepts the relying-party id "localhost" only.
        return f"http://localhost:{self.config.operator_port}"


@dataclass
class Cluster:
    """Nodes laid out under ``folder``: ``pki/`` and one sub-folder per node."""

    folder: Path
    names: tuple[str, ...] = DEMO_NODES
    database_url_template: str | None = None
    #: Settings for some nodes (any Settings field, e.g. ``participation``), by node name.
    settings: dict[str, dict[str, object]] = field(default_factory=dict)
    #: Longest wait between delivery retries (tests shorten it so a returning link drains fast).
    max_backoff_seconds: float = 30.0
    #: How often some nodes publish their signed tree heads (seconds, by node name; the
    #: others keep :class:`NodeConfig`'s default). Tests shorten it to see a publication soon.
    tree_head_interval_seconds: dict[str, float] = field(default_factory=dict)
    nodes: dict[str, ClusterNode] = field(default_factory=dict)

    @property
    def pki(self) -> NetworkPki:
        """The network's PKI folder."""
        return NetworkPki(self.folder / "pki")

    def create(
        self,
        *,
        environment: Environment,
        now: dt.datetime | None = None,
        secret_key: str | None = None,
        base_port: int | None = None,
    ) -> None:
        """Make the PKI, each node's credentials, configuration and migrated database.

        ``environment`` is written into every node's node.json: the demo says ``dev``, tests and
        benchmarks ``test`` (there is no implicit one: a node without it is production).

        With ``base_port`` the operator ports are base, base+1, … and the network ports
        base+100, base+101, … (in the order of ``names``); otherwise free ports are picked.
        """
        now = now or dt.datetime.now(dt.UTC)
        signer = FileCaSigner.generate()
        private_folder(self.folder)
        signer.save(self.folder / "pki" / "ca.key")
        self.pki.init(signer, now=now)
        if base_port is None:
            ports = {n: (free_port(), free_port(), free_port()) for n in self.names}
        else:
            ports = {
                n: (base_port + 100 + i, base_port + i, base_port + 200 + i)
                for i, n in enumerate(self.names)
            }
        ids = {n: NodeId.parse(n) for n in self.names}
        for name in self.names:
            self.pki.issue_node(signer, name, now=now)
            folder = self.folder / folder_name(name)
            url = database_url_for(self.database_url_template, folder, name)
            private_folder(folder)
            ensure_postgres_database(url, fresh=True)
            upgrade(url)
            peers = {
                m: f"https://127.0.0.1:{ports[m][0]}"
                for m in self.names
                if m != name and are_neighbours(ids[name], ids[m])
            }
            # Only what differs per node; Settings holds every default.
            per_node: dict[str, object] = {
                "environment": environment,
                "database_url": url,
                "pki_dir": str(self.pki.folder),
                "peers": peers,
                "secret_key": secret_key or secrets.token_urlsafe(48),
                "delivery_max_backoff_seconds": self.max_backoff_seconds,
                # A newcomer's browser has no operator card: a demo operator's first sign-in
                # enrols the browser's passkey or security key (labelled on every page).
                "demo_card_enrolment": True,
                # The demo and end-to-end tests run on the real clock, at any hour.
                "always_open": True,
                **self.settings.get(name, {}),
            }
            config = NodeConfig(
                node=name,
                network_port=ports[name][0],
                operator_port=ports[name][1],
                # A prefecture's certification authority answers relying parties (CRL, OCSP);
                # a municipality serves its residents' portal there.
                public_port=ports[name][2] if ids[name].role is not NodeRole.NATIONAL else None,
                per_node=per_node,
                **(
                    {"tree_head_interval_seconds": self.tree_head_interval_seconds[name]}
                    if name in self.tree_head_interval_seconds
                    else {}
                ),
            )
            config.save(folder)
            self.nodes[name] = ClusterNode(name=name, folder=folder, config=config)

    @classmethod
    def load(cls, folder: Path) -> Cluster:
        """A cluster created earlier under ``folder``."""
        cluster = cls(folder=folder)
        found = []
        for config_path in sorted(folder.glob("*/node.json")):
            config = NodeConfig.load(config_path.parent)
            cluster.nodes[config.node] = ClusterNode(config.node, config_path.parent, config)
            found.append(config.node)
        cluster.names = tuple(found)
        return cluster

    def handle(self, name: str) -> ServiceContext:
        """An in-process handle on a node's database (for checks and seeding)."""
        return build_node(self.nodes[name].config.settings())

    def start(self, names: Iterable[str] | None = None, *, log_dir: Path | None = None) -> None:
        """Start node processes and wait until each answers."""
        for name in names or self.names:
            node = self.nodes[name]
            if node.process is not None and node.process.poll() is None:
                continue
            log_path = (log_dir or node.folder) / "node.log"
            with log_path.open("ab") as log:
                node.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                    [sys.executable, "-m", "jukinet.runtime.runner", str(node.folder)],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        for name in names or self.names:
            self.wait_ready(name)

    def wait_ready(self, name: str, *, timeout: float = 30.0) -> None:
        """Wait until the node's operator port answers."""
        node = self.nodes[name]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if node.process is not None and node.process.poll() is not None:
                msg = f"{name} exited with {node.process.returncode}; see {node.folder}/node.log"
                raise RuntimeError(msg)
            try:
                if httpx.get(node.operator_url + "/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        msg = f"{name} did not become ready within {timeout} s"
        raise TimeoutError(msg)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to a node (SIGKILL by default: a crash) and reap it."""
        node = self.nodes[name]
        if node.process is not None and node.process.poll() is None:
            node.process.send_signal(sig)
            node.process.wait(timeout=30)
        node.process = None

    def stop(self, *, timeout: float = 15.0) -> None:
        """Stop every node: SIGTERM to all at once, then SIGKILL to any still running
        ``timeout`` seconds later (one deadline for the whole cluster, not one per node)."""
        for node in self.nodes.values():
            if node.process is not None and node.process.poll() is None:
                node.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for node in self.nodes.values():
            if node.process is None:
                continue
            try:
                node.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                node.process.kill()
                node.process.wait(timeout=5)
            node.process = None
