"""The composition root: wires storage, clock and identity of one node."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from jukinet.config import Settings
from jukinet.domain.network import NATIONAL, NodeId, NodeRole
from jukinet.network.context import NetworkContext
from jukinet.storage.database import READ_ONLY, make_engine, make_session_factory
from jukinet.storage.unit_of_work import UnitOfWork

#: Japan has no daylight saving; a fixed offset avoids depending on the tz database.
JST = timezone(timedelta(hours=9), "JST")


def system_clock() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC)


@dataclass
class Node:
    """One node of the network (for now: a municipality) with its database and clock."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    clock: Callable[[], datetime] = field(default=system_clock)
    #: Keys, trust and neighbours; ``None`` for a node that is not on the network.
    network: NetworkContext | None = None

    @property
    def municipality_code(self) -> str:
        """The municipality this node serves."""
        return self.settings.municipality_code

    @property
    def node_id(self) -> NodeId:
        """This node's name on the network."""
        role = NodeRole(self.settings.role)
        if role is NodeRole.MUNICIPALITY:
            return NodeId(role, self.settings.municipality_code)
        if role is NodeRole.NATIONAL:
            return NATIONAL
        return NodeId(role, self.settings.node_code or "")

    @property
    def connected(self) -> bool:
        """Whether this node takes part in the network (a municipality may not)."""
        return self.settings.participation == "connected"

    @property
    def upstream(self) -> str:
        """The recipient of identity notices: this municipality's prefecture."""
        return f"prefecture:{self.municipality_code[:2]}"

    def read_session(self) -> Session:
        """A session for reports that only read (no write lock on SQLite; never commit in it)."""
        return Session(
            bind=self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )

    def uow(self) -> UnitOfWork:
        """A fresh unit of work."""
        return UnitOfWork(self.session_factory)

    def now(self) -> datetime:
        """The current time."""
        return self.clock()

    def today(self) -> date:
        """Today's date in Japan, which is what the register's dates mean."""
        return self.clock().astimezone(JST).date()


def build_node(settings: Settings, *, clock: Callable[[], datetime] = system_clock) -> Node:
    """Create the engine and session factory for ``settings``.

    Network credentials are loaded when ``settings.pki_dir`` is set.
    """
    engine = make_engine(settings.database_url)
    node = Node(
        settings=settings, engine=engine, session_factory=make_session_factory(engine), clock=clock
    )
    if settings.pki_dir is not None:
        node.network = NetworkContext.load(node.node_id, settings.pki_dir, settings.peers)
    return node
