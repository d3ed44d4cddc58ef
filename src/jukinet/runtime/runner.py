"""Running a node: its operator pages and API, its mutual-TLS network endpoint, and delivery.

Every node is the same program in a different role. One process serves two listeners — the
operator side (pages and JSON API, for the node's own staff) and the network side (mutual TLS,
neighbours only) — and runs one delivery worker per neighbour it sends to.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import signal
import ssl
import sys
from pathlib import Path
from typing import Any

import uvicorn
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import event

from jukinet.config import Settings, SettingsError, SettingsProblem, load_settings
from jukinet.domain.errors import DomainError
from jukinet.domain.network import NodeId, NodeRole, parent_of
from jukinet.network.delivery import DeliveryWorker, LinkSender
from jukinet.network.relay import close_hop_clients
from jukinet.network.terminal_ca import SERVER_CERT, SERVER_KEY, TerminalAuthority
from jukinet.network.transport import (
    GRACEFUL_SHUTDOWN_SECONDS,
    PeerCertificateProtocol,
    SharedSignalServer,
    make_server,
)
from jukinet.runtime import event_loop
from jukinet.runtime.background import (
    batch_worker,
    code_pool_keeper,
    crl_keeper,
    deadline_watcher,
    handshake_recorder,
    participation_watcher,
    retention_keeper,
    tree_head_publisher,
)
from jukinet.runtime.bootstrap import build_node, handler_table
from jukinet.runtime.test_clock import restart_with_moved_clock
from jukinet.services.context import ServiceContext
from jukinet.storage.private_files import private_file
from jukinet.web.network_app import create_network_app

log = logging.getLogger(__name__)

CONFIG_FILE = "node.json"


class NodeConfig(BaseModel):
    """``node.json``: what ``jukinet node init`` writes and ``jukinet node serve`` reads.

    The node's name and where it listens are declared here, once; everything else in the file
    is a :class:`~jukinet.config.Settings` field, kept in :attr:`per_node` as written and
    validated by ``Settings`` itself, whose defaults are the only defaults. The file is flat:
    ``{"node": …, "network_port": …, "operator_port": …, "database_url": …, "secret_key": …}``.
    A node's role and code follow from ``node``; ``null`` means "not set". Values in the file
    win over ``JUKINET_*`` variables, which supply whatever the file leaves out.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: The node's name, e.g. ``municipality:132292`` (its role and code).
    node: str
    #: The mutual-TLS port for neighbours.
    network_port: int
    #: The port of the operator pages and API.
    operator_port: int
    #: A prefecture's public port (plain HTTP): its JPKI CA certificate, CRL and OCSP for
    #: relying parties, and nothing else. ``None``: not served.
    public_port: int | None = None
    host: str = "127.0.0.1"
    #: How often a signed tree head is published when the access log has grown.
    tree_head_interval_seconds: float = 60.0
    #: The Settings fields this node sets (``environment``, ``database_url``, ``secret_key``,
    #: ``pki_dir``, ``peers``, ``participation`` …).
    per_node: dict[str, Any] = Field(default_factory=dict)

    @field_validator("node")
    @classmethod
    def _node_name(cls, value: str) -> str:
        try:
            return str(NodeId.parse(value))
        except DomainError as error:
            raise SettingsError.one("node", ja=error.message_ja, en=error.message_en) from None

    @field_validator("per_node")
    @classmethod
    def _settings_fields(cls, value: dict[str, Any]) -> dict[str, Any]:
        problems = [_unknown_key(key) for key in value if key not in PER_NODE_SETTINGS]
        if problems:
            raise SettingsError(problems)
        return {key: item for key, item in value.items() if item is not None}

    def save(self, folder: Path) -> Path:
        """Write ``node.json`` into ``folder`` (mode 0600: it holds the session secret)."""
        path = private_file(folder / CONFIG_FILE)
        # A port left unset (``public_port`` of a municipality) is not written: node.json holds
        # only what the node sets.
        runtime = self.model_dump(mode="json", exclude={"per_node"}, exclude_none=True)
        data = runtime | _jsonable(self.per_node)
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, folder: Path) -> NodeConfig:
        """Read ``node.json`` from ``folder`` (:class:`SettingsError` when missing or wrong)."""
        path = folder / CONFIG_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SettingsError.one(
                str(path),
                ja=f"{path} がありません。jukinet node init で作成し、--dir にそのフォルダを"
                "指定してください。",
                en=f"{path} does not exist: create it with 'jukinet node init' and give its "
                "folder with --dir",
            ) from None
        except (OSError, ValueError) as error:
            raise SettingsError.one(
                str(path),
                ja=f"{path} を読めません（{error}）。",
                en=f"cannot read {path}: {error}",
            ) from None
        if not isinstance(data, dict):
            raise SettingsError.one(
                str(path),
                ja=f"{path} は JSON オブジェクトではありません。",
                en=f"{path} is not a JSON object",
            )
        own = {key: data.pop(key) for key in RUNTIME_KEYS if key in data}
        try:
            return cls(**own, per_node=data)
        except ValidationError as error:
            raise SettingsError.from_validation(
                error, name=lambda field: f"{CONFIG_FILE}: {field.removeprefix('per_node.')}"
            ) from None

    def with_settings(self, **values: object) -> NodeConfig:
        """A copy with these Settings fields set (``None`` unsets one)."""
        return NodeConfig(**self.model_dump(exclude={"per_node"}), per_node=self.per_node | values)

    def settings(self, **overrides: object) -> Settings:
        """This node's settings: the environment, then ``node.json``, then ``overrides``."""
        node_id = NodeId.parse(self.node)
        identity: dict[str, object] = {"role": node_id.role.value}
        if node_id.role is NodeRole.MUNICIPALITY:
            identity["municipality_code"] = node_id.code
        else:
            identity["node_code"] = node_id.code
        return load_settings(**(self.per_node | identity | overrides))


#: node.json's own keys; every other key is a Settings field.
RUNTIME_KEYS = frozenset(NodeConfig.model_fields) - {"per_node"}
#: The Settings fields node.json may hold: all but the node's identity, which ``node`` gives.
PER_NODE_SETTINGS = frozenset(Settings.model_fields) - {"role", "municipality_code", "node_code"}


def _unknown_key(key: str) -> SettingsProblem:
    if key in Settings.model_fields:
        return SettingsProblem(
            f"{CONFIG_FILE}: {key}",
            ja=f"{CONFIG_FILE} の {key} は指定できません（役割とコードは node で決まります）。",
            en=f"{key} cannot be set in {CONFIG_FILE}: the role and code follow from 'node'",
        )
    return SettingsProblem(
        f"{CONFIG_FILE}: {key}",
        ja=f"{CONFIG_FILE} に不明な項目 {key} があります。使える項目: "
        + ", ".join(sorted(RUNTIME_KEYS | PER_NODE_SETTINGS)),
        en=f"unknown key {key} in {CONFIG_FILE}; known: "
        + ", ".join(sorted(RUNTIME_KEYS | PER_NODE_SETTINGS)),
    )


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {key: str(item) if isinstance(item, Path) else item for key, item in values.items()}


def delivery_peers(node: ServiceContext) -> list[str]:
    """The neighbours this node sends to: its parent, and any child it routes messages down to.

    A municipality that is not connected gets its workers too: they send nothing until an
    operator connects it, which the running node notices without a restart.
    """
    if node.network is None:
        return []
    peers = set(node.network.peers)
    parent = parent_of(node.node_id)
    if parent is not None:
        peers.add(str(parent))
    return sorted(p for p in peers if p in node.network.peers)


def operator_port_options(node: ServiceContext, host: str) -> dict[str, Any]:
    """uvicorn options for the operator port: mutual TLS with terminal certificates, or the
    loopback terminal.

    In ``loopback`` mode (dev, tests, the demo) the port must listen on a loopback address: the
    machine itself is then the one terminal. In ``certificate`` mode the port asks for a client
    certificate from the node's terminal CA and passes it to the app, which matches it against
    the terminal register on every request.
    """
    if node.settings.terminal_mode == "loopback":
        if not ipaddress.ip_address(host).is_loopback:
            raise SettingsError.one(
                "host",
                ja="ループバック端末モードでは操作者ポートを 127.0.0.1 でのみ待ち受けます。",
                en="In loopback terminal mode the operator port listens on 127.0.0.1 only",
            )
        return {}
    authority = TerminalAuthority(node.settings.terminal_folder)
    if not authority.exists:
        raise SettingsError.one(
            "terminal_dir",
            ja=f"{authority.folder} に端末用の認証局がありません。jukinet terminal init で"
            "作成してください。",
            en=f"No terminal CA in {authority.folder}: create it with 'jukinet terminal init'",
        )
    return {
        "ssl_certfile": str(authority.folder / SERVER_CERT),
        "ssl_keyfile": str(authority.folder / SERVER_KEY),
        "ssl_ca_certs": str(authority.ca_cert_path),
        "ssl_cert_reqs": ssl.CERT_REQUIRED,
        "http": PeerCertificateProtocol,
    }


async def serve_node(node: ServiceContext, config: NodeConfig) -> None:
    """Serve both listeners and deliver until SIGINT/SIGTERM."""
    from jukinet.web.app import create_app
    from jukinet.web.jpki_public import create_public_app
    from jukinet.web.portal import create_portal_app

    net = node.network
    if net is None:
        msg = "a network node needs its PKI folder"
        raise RuntimeError(msg)
    # The revocation list first: a node started after a long stop (or the CA's node finding the
    # list half gone) republishes or reloads before any handshake could fail on a stale one.
    keeper = crl_keeper(node, net)
    keeper.run_once()
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
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
            **operator_port_options(node, config.host),
        )
    )
    servers = [network_server, operator_server]
    if config.public_port is not None and node.node_id.role is not NodeRole.NATIONAL:
        # A prefecture's JPKI endpoints, or a municipality's resident portal (住民ポータル).
        public_app = (
            create_public_app(node)
            if node.node_id.role is NodeRole.PREFECTURE
            else create_portal_app(node)
        )
        servers.append(
            SharedSignalServer(
                uvicorn.Config(
                    public_app,
                    host=config.host,
                    port=config.public_port,
                    log_level="warning",
                    lifespan="on",
                    timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
                )
            )
        )
    workers = [DeliveryWorker(LinkSender(node, net, peer)) for peer in delivery_peers(node)]
    background = [
        batch_worker(node, network_app.state.registry_cache),
        tree_head_publisher(node, interval=config.tree_head_interval_seconds),
        retention_keeper(node),
        handshake_recorder(node, net),
        keeper,
        participation_watcher(node, lambda: wake_workers(None)),
        deadline_watcher(node),
    ]
    if node.node_id.role is NodeRole.MUNICIPALITY:
        background.append(code_pool_keeper(node))

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
        # Kept relay connections to neighbours would hold their servers in a TLS shutdown.
        close_hop_clients()
        for server in servers:
            server.should_exit = True

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    try:
        await asyncio.gather(*(server.serve() for server in servers))
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
    """Load ``folder/node.json`` and serve the node until stopped.

    A test node with ``test_clock_offset_seconds`` first restarts itself with its clock moved
    (:mod:`jukinet.runtime.test_clock`).
    """
    config = NodeConfig.load(folder)
    settings = config.settings()
    restart_with_moved_clock(
        settings.test_clock_offset_seconds, ["-m", "jukinet.runtime.runner", str(folder)]
    )
    node = build_node(settings)
    log.info(
        "serving %s (network :%d, operator :%d)",
        config.node,
        config.network_port,
        config.operator_port,
    )
    event_loop.run(serve_node(node, config), settings.event_loop)


def main() -> None:
    """``python -m jukinet.runtime.runner FOLDER``: serve the node configured in FOLDER."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if len(sys.argv) != 2:
        sys.stderr.write("usage: python -m jukinet.runtime.runner NODE_FOLDER\n")
        raise SystemExit(2)
    try:
        run_node(Path(sys.argv[1]))
    except SettingsError as error:
        # Refused settings: what to set, in both languages, and no traceback.
        sys.stderr.write("設定が正しくありません / invalid settings\n")
        for problem in error.problems:
            sys.stderr.write(f"  {problem.setting}\n    {problem.ja}\n    {problem.en}\n")
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
