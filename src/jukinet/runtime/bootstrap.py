"""The composition root: builds a node's context and its table of message handlers.

Nothing below the runtime imports this module: use cases receive a
:class:`~jukinet.services.context.ServiceContext`, network code a
:class:`~jukinet.network.node.NetworkNode` (the same object), and the inbox the
:class:`~jukinet.network.handlers.HandlerTable` built here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from jukinet.config import Settings
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
    if settings.pki_dir is not None:
        node.network = NetworkContext.load(node.node_id, settings.pki_dir, settings.peers)
    node.refresh_participation()
    return node


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
