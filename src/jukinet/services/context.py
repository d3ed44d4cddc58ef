"""What a use case is given: a unit-of-work factory, the clock, the node's identity and settings.

The composition root (``jukinet.runtime.bootstrap``) builds one per node; services never import
the root. It is a :class:`~jukinet.network.node.NetworkNode` (identity, settings, clock,
network credentials), so the same object serves the network adapters the use cases call, and
adds what only use cases need: units of work and read-only report sessions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from jukinet.network.node import NetworkNode
from jukinet.storage.database import READ_ONLY
from jukinet.storage.replica import Replica
from jukinet.storage.unit_of_work import UnitOfWork


@dataclass
class ServiceContext(NetworkNode):
    """A node as its use cases see it."""

    #: A streaming replica agency lookups may read from (``JUKINET_DATABASE_REPLICA_URL``).
    replica: Replica | None = field(default=None, repr=False)

    def uow(self) -> UnitOfWork:
        """A fresh unit of work (one transaction of a use case)."""
        return UnitOfWork(self.session_factory)

    def read_session(self) -> Session:
        """A session for reports that only read (no write lock on SQLite; never commit in it)."""
        return Session(
            bind=self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )
