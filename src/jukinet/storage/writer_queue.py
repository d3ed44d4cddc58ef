"""A fair queue for SQLite's one writer (issue 11, finding 6).

SQLite lets one transaction write at a time. Left to itself, a waiting writer polls with
growing sleeps until ``busy_timeout`` runs out and then fails with "database is locked", and a
newcomer may win the lock over a thread that has waited for seconds. Within a node process every
write transaction therefore first takes its turn here: first come, first served, one at a time,
so a writer waits for those ahead of it instead of failing. (Other processes on the same file —
an administrator's CLI command — still meet ``busy_timeout``.)

The turn is handed over directly from the releasing transaction to the oldest waiter, so no
newcomer can overtake it. A waiter that has not been served within ``timeout`` seconds gives up
with :class:`WriterQueueTimeout` (answered 503 with Retry-After by the web layer).
"""

from __future__ import annotations

import threading
from collections import deque
from pathlib import Path
from typing import Final

from sqlalchemy.exc import OperationalError

#: How long a write transaction waits for its turn before giving up (seconds).
WRITER_WAIT_SECONDS: Final = 120.0


class WriterQueueTimeout(OperationalError):
    """A write transaction waited longer than its limit for its turn.

    An :class:`~sqlalchemy.exc.OperationalError` like SQLite's own "database is locked", so
    callers handle both the same way.
    """

    def __init__(self, waited: float) -> None:
        super().__init__(
            f"waited {waited:.0f} s for the database's write turn", None, Exception("busy")
        )


class WriterQueue:
    """A first-in, first-out lock that any thread may release (a transaction may end on
    another thread than the one that began it)."""

    def __init__(self, timeout: float = WRITER_WAIT_SECONDS) -> None:
        self.timeout = timeout
        self._mutex = threading.Lock()
        self._held = False
        self._waiting: deque[threading.Event] = deque()

    def acquire(self) -> None:
        """Wait for this caller's turn (``WriterQueueTimeout`` after :attr:`timeout`)."""
        with self._mutex:
            if not self._held and not self._waiting:
                self._held = True
                return
            turn = threading.Event()
            self._waiting.append(turn)
        if turn.wait(self.timeout):
            return
        with self._mutex:
            # Served in the instant between the timeout and taking the mutex: keep the turn.
            if turn.is_set():
                return
            self._waiting.remove(turn)
        raise WriterQueueTimeout(self.timeout)

    def release(self) -> None:
        """End the current turn, handing it to the oldest waiter if there is one."""
        with self._mutex:
            if self._waiting:
                self._waiting.popleft().set()  # still held: ownership passes on directly
            else:
                self._held = False

    @property
    def waiting(self) -> int:
        """How many writers are queued (for tests and diagnostics)."""
        with self._mutex:
            return len(self._waiting)


_queues: dict[str, WriterQueue] = {}
_queues_lock = threading.Lock()


def queue_for(database: str) -> WriterQueue:
    """The process's one queue for the SQLite file ``database`` (shared by all its engines)."""
    key = str(Path(database).resolve())
    with _queues_lock:
        queue = _queues.get(key)
        if queue is None:
            queue = _queues[key] = WriterQueue()
        return queue
