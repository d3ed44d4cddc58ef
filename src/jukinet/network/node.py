"""What network code is given about the node it runs in: storage, clock, identity, settings.

Built by the composition root (``jukinet.runtime.bootstrap``); network code never builds one.
The use cases get the richer :class:`jukinet.services.context.ServiceContext`, which is one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from jukinet.config import Settings
from jukinet.domain.clock import japan_date
from jukinet.domain.emergency import EmergencyState
from jukinet.domain.network import NATIONAL, NodeId, NodeRole, parent_of
from jukinet.network.context import NetworkContext
from jukinet.storage import emergency as emergency_store
from jukinet.storage import participation as participation_store


def system_clock() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC)


@dataclass
class NetworkNode:
    """One node: its settings, database, clock and (when on the network) its keys and peers."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    clock: Callable[[], datetime] = field(default=system_clock)
    #: Keys, trust and neighbours; ``None`` for a node that is not on the network.
    network: NetworkContext | None = None
    #: The participation state last read from the database (``None``: none recorded, the
    #: configuration rules). Read at build, after each change and by the running node's
    #: watcher — never on demand, so hot paths and open transactions never wait on it.
    recorded_participation: str | None = field(default=None, repr=False)
    #: Threat levels and emergency cuts in force, read like the participation state (at build,
    #: after each decision here, and by the running node's watcher); a cut's expiry is judged
    #: against the clock when asked, so expiring needs no read.
    emergency: EmergencyState = field(default_factory=EmergencyState, repr=False)

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
    def municipality_code(self) -> str:
        """The municipality this node serves (a municipality node's own code)."""
        return self.settings.municipality_code

    @property
    def participation(self) -> str:
        """``connected``, ``disconnected`` or ``never_connected`` (upper tiers: connected)."""
        if self.settings.role != "municipality":
            return "connected"
        return self.recorded_participation or self.settings.participation

    @property
    def connected(self) -> bool:
        """Whether this node takes part in the network (a municipality may not)."""
        return self.participation == "connected"

    def refresh_participation(self) -> str:
        """Read the recorded participation state again (outside any transaction); returns it."""
        if self.settings.role == "municipality":
            self.recorded_participation = participation_store.read_state(self.engine)
        self.refresh_emergency()
        return self.participation

    def refresh_emergency(self) -> EmergencyState:
        """Read the threat levels and cuts in force again (outside any transaction)."""
        self.emergency = emergency_store.read_state(
            self.engine, here=str(self.node_id), now=self.now()
        )
        return self.emergency

    @property
    def upstream(self) -> str:
        """The recipient of identity notices: this node's parent in the topology."""
        parent = self.parent
        if parent is None:
            msg = "the national centre has no upstream node"
            raise LookupError(msg)
        return str(parent)

    @property
    def parent(self) -> NodeId | None:
        """The node this one reports to (from the topology), ``None`` at the centre."""
        return parent_of(self.node_id)

    def now(self) -> datetime:
        """The current time."""
        return self.clock()

    def today(self) -> date:
        """Today's date in Japan, which is what the register's dates mean."""
        return japan_date(self.clock())
