"""The composition root: builds a node's context and its table of message handlers.

Nothing below the runtime imports this module: use cases receive a
:class:`~jukinet.services.context.ServiceContext`, network code a
:class:`~jukinet.network.node.NetworkNode` (the same object), and the inbox the
:class:`~jukinet.network.handlers.HandlerTable` built here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from jukinet.config import Settings, SettingsError, variable_of
from jukinet.domain.messages import MessageKind
from jukinet.domain.network import NodeRole
from jukinet.network.context import NetworkContext
from jukinet.network.handlers import HandlerTable
from jukinet.network.node import system_clock
from jukinet.services.context import ServiceContext
from jukinet.services.emergency.messages import emergency_handlers
from jukinet.services.identity_store import identity_handlers
from jukinet.services.register.notices import move_in_notice_handler
from jukinet.services.resident_card.status import card_status_handlers
from jukinet.storage import identity_records
from jukinet.storage.database import make_engine, make_session_factory
from jukinet.storage.replica import CONNECT_TIMEOUT, Replica, system_identifier

log = logging.getLogger(__name__)


def build_node(
    settings: Settings, *, clock: Callable[[], datetime] = system_clock
) -> ServiceContext:
    """Create the engine, session factory and context of the node ``settings`` describe.

    Network credentials are loaded when ``settings.pki_dir`` is set.
    """
    engine = make_engine(settings.database_url)
    node = ServiceContext(
        settings=settings, engine=engine, session_factory=make_session_factory(engine), clock=clock
    )
    if settings.database_replica_url:
        node.replica = open_replica(settings, engine)
    if settings.pki_dir is not None:
        node.network = NetworkContext.load(node.node_id, settings.pki_dir, settings.peers)
    node.refresh_participation()
    return node


def open_replica(settings: Settings, primary: Engine) -> Replica:
    """The replica ``settings`` name, checked at start.

    A wrong setting is refused (:class:`SettingsError`): a database that is not in recovery, or
    a replica of another cluster (same system identifier, where the role may read it). A
    replica that cannot be reached is not a reason to keep the centre down: the node starts,
    reads go to the primary, and the replica is used once it answers and proves to be a copy
    of this primary.
    """
    url = settings.database_replica_url
    assert url is not None
    variable = variable_of("database_replica_url")
    where = f"{make_url(url).host or 'localhost'}:{make_url(url).port or 5432}"
    # No ping before each use: a read that fails on a dead connection is retried on the primary
    # (and the pool invalidated), so the ping's round trip would buy nothing.
    engine = make_engine(
        url, connect_args={"connect_timeout": CONNECT_TIMEOUT}, pool_pre_ping=False
    )
    replica = Replica(
        engine,
        max_lag_seconds=settings.database_replica_max_lag_seconds,
        primary_system_id=system_identifier(primary),
    )
    state = replica.check()
    problem: tuple[str, str] | None = None
    if state.reason == "unreachable":
        log.warning("replica.unreachable_at_start where=%s action=read_on_primary", where)
    elif state.reason == "not_a_replica":
        problem = (
            f"{variable}（{where}）はレプリカではありません（リカバリ中ではない、書き込み可能な"
            "データベースです）。ストリーミングレプリカを指定してください。",
            f"{variable} ({where}) is not a replica (the database is not in recovery): name a "
            "streaming replica of JUKINET_DATABASE_URL",
        )
    elif state.reason == "other_cluster":
        problem = (
            f"{variable}（{where}）は JUKINET_DATABASE_URL のデータベースのレプリカでは"
            "ありません（クラスタが異なります）。",
            f"{variable} ({where}) is a replica of another cluster, not of JUKINET_DATABASE_URL's",
        )
    if problem is not None:
        engine.dispose()
        raise SettingsError.one(variable, ja=problem[0], en=problem[1])
    return replica


def handler_table(node: ServiceContext) -> HandlerTable:
    """Which use case handles which message at this node, by its role."""
    emergency = emergency_handlers(node)
    if node.node_id.role is NodeRole.MUNICIPALITY:
        return HandlerTable(
            direct={MessageKind.EMERGENCY_ORDER: emergency[MessageKind.EMERGENCY_ORDER]},
            routed={MessageKind.MOVE_IN_NOTICE: move_in_notice_handler(node)},
        )
    return HandlerTable(
        direct=identity_handlers(node) | card_status_handlers(node) | emergency,
        prepare=identity_records.prefetch,
    )
