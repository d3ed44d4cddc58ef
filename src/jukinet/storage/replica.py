"""A PostgreSQL streaming replica that serves reads while it is reachable and fresh.

A node may be given a read-only replica of its database (``JUKINET_DATABASE_REPLICA_URL``).
Agency lookups read identity records there, so the primary's cores go to notices and to the
access log (which is always written on the primary). The replica is never needed: when it is
unreachable, not streaming from its primary, or its replay lags more than the configured bound,
reads go to the primary, and each change of state is logged once as a structured line (event
name, reason, lag; no personal data, no query). A government service does not stop because its
replica did.

The lag is the replica's own view: zero when it has replayed all it received, else the time
since the last transaction it replayed was committed on the primary (so the two machines'
clocks must agree, as NTP keeps them). A replica whose WAL receiver is not streaming cannot know
how far behind it is, and is not used.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

#: How often the replica's state is read again (seconds); between two reads the last holds.
CHECK_INTERVAL: Final = 1.0
#: How long a connection attempt to the replica may take (seconds) before it counts as down.
CONNECT_TIMEOUT: Final = 2

_STATE_SQL: Final = text(
    "SELECT pg_is_in_recovery(),"
    " CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0.0"
    " ELSE EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8"
    " END,"
    # A role without pg_read_all_stats sees the receiver's row but not its status: a running
    # receiver then counts as streaming (the lag still bounds what is served).
    " EXISTS (SELECT 1 FROM pg_stat_wal_receiver"
    " WHERE coalesce(status, 'streaming') = 'streaming')"
)


@dataclass(frozen=True, slots=True)
class ReplicaState:
    """What the replica looked like at its last check.

    ``reason``: ``streaming`` (serving reads), ``lagging`` (replay behind by more than the
    bound), ``not_streaming`` (its WAL receiver is not connected to the primary),
    ``not_a_replica`` (the database is not in recovery), ``other_cluster`` (a replica, but of
    another primary: never used) or ``unreachable``.
    """

    reason: str
    lag_seconds: float | None
    checked_at: float

    @property
    def serving(self) -> bool:
        """Whether reads go to the replica."""
        return self.reason == "streaming"

    def as_dict(self) -> dict[str, object]:
        """For the health endpoint: state, lag and whether lookups read there."""
        lag = None if self.lag_seconds is None else round(self.lag_seconds, 3)
        return {"state": self.reason, "serving_reads": self.serving, "lag_seconds": lag}


def read_state(engine: Engine, max_lag_seconds: float, *, now: float) -> ReplicaState:
    """Connect to the replica and read its state (``unreachable`` on any database error)."""
    try:
        with engine.connect() as conn:
            row = conn.execute(_STATE_SQL).one()
    except SQLAlchemyError:
        return ReplicaState("unreachable", None, now)
    in_recovery, lag, streaming = row
    if not in_recovery:
        return ReplicaState("not_a_replica", None, now)
    if not streaming or lag is None:
        return ReplicaState("not_streaming", None if lag is None else float(lag), now)
    lag = max(0.0, float(lag))
    return ReplicaState("lagging" if lag > max_lag_seconds else "streaming", lag, now)


class Replica:
    """The node's read replica: where reads may go now, and counts of where they went."""

    def __init__(
        self,
        engine: Engine,
        *,
        max_lag_seconds: float,
        check_interval: float = CHECK_INTERVAL,
        monotonic: Callable[[], float] = time.monotonic,
        primary_system_id: int | None = None,
    ) -> None:
        self.engine = engine
        #: The primary's cluster: a replica is used only once it is seen to be a copy of it
        #: (checked at its first answer, which may come after the node started).
        self.primary_system_id = primary_system_id
        self._confirmed = primary_system_id is None
        self.max_lag_seconds = max_lag_seconds
        self.check_interval = check_interval
        self._monotonic = monotonic
        self._checking = threading.Lock()
        self._state = ReplicaState("unreachable", None, float("-inf"))
        #: Reads served by the replica, and reads that went to the primary instead.
        self.served = 0
        self.fell_back = 0

    def check(self) -> ReplicaState:
        """Read the replica's state now (logging a change) and return it."""
        state = read_state(self.engine, self.max_lag_seconds, now=self._monotonic())
        if state.reason == "other_cluster" or self._state.reason == "other_cluster":
            return self._state
        if state.reason != "unreachable" and not self._confirmed:
            theirs = system_identifier(self.engine)
            if theirs is not None and theirs != self.primary_system_id:
                state = ReplicaState("other_cluster", None, state.checked_at)
            else:
                self._confirmed = True
        self._record(state)
        return state

    def state(self) -> ReplicaState:
        """The replica's state, read again when the last check is older than the interval.

        One thread checks at a time; the others meanwhile go by the last state (a replica that
        hangs holds up one request per interval, for at most the connect timeout).
        """
        state = self._state
        if self._monotonic() - state.checked_at < self.check_interval:
            return state
        if not self._checking.acquire(blocking=False):
            return state
        try:
            return self.check()
        finally:
            self._checking.release()

    def session(self) -> Session | None:
        """A session on the replica if reads may go there now, else ``None`` (use the primary)."""
        if self.state().serving:
            return Session(bind=self.engine)
        self.fell_back += 1
        return None

    def read_failed(self, error: SQLAlchemyError) -> None:
        """A read on the replica failed (it went away, or a query was cancelled by replay):
        the read is retried on the primary, and the replica is checked again next time."""
        self.fell_back += 1
        log.warning("replica.read_failed error=%s action=read_on_primary", type(error).__name__)
        self._state = ReplicaState("unreachable", None, float("-inf"))

    def _record(self, state: ReplicaState) -> None:
        before = self._state
        self._state = state
        if before.reason == state.reason:
            return
        lag = "unknown" if state.lag_seconds is None else f"{state.lag_seconds:.3f}"
        if state.serving:
            log.info("replica.serving lag_seconds=%s bound_seconds=%s", lag, self.max_lag_seconds)
        else:
            log.warning(
                "replica.fallback reason=%s lag_seconds=%s bound_seconds=%s action=read_on_primary",
                state.reason,
                lag,
                self.max_lag_seconds,
            )


def system_identifier(engine: Engine) -> int | None:
    """The cluster's system identifier (shared by a primary and its physical replicas), if the
    role may read it."""
    try:
        with engine.connect() as conn:
            value = conn.scalar(text("SELECT system_identifier FROM pg_control_system()"))
    except SQLAlchemyError:
        return None
    return None if value is None else int(value)
