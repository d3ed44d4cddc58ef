"""A node's background work besides delivery: batch jobs, signed tree heads, log retention.

Each runs in its own thread and survives its own errors (logged without personal data, retried
on the next round); stopping is prompt because every wait is on an event.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from jukinet.services import audit, batch
from jukinet.services.context import ServiceContext
from jukinet.storage.registry import RegistryCache

log = logging.getLogger(__name__)


class _Loop(threading.Thread):
    """Call ``step`` every ``interval`` seconds (sooner when woken) until stopped."""

    def __init__(self, name: str, step: Callable[[], bool], interval: float) -> None:
        super().__init__(name=name, daemon=True)
        self._step = step
        self.interval = interval
        self.stopping = threading.Event()
        self.wake = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            busy = False
            try:
                busy = self._step()
            except Exception as error:  # keep the node alive; the step is retried next round
                log.warning("%s failed: %s", self.name, type(error).__name__)
            if busy:
                continue
            self.wake.wait(self.interval)
            self.wake.clear()

    def stop(self) -> None:
        """Ask the loop to finish its current step and end."""
        self.stopping.set()
        self.wake.set()


def batch_worker(node: ServiceContext, cache: RegistryCache, *, interval: float = 1.0) -> _Loop:
    """Answers queued batch jobs one chunk per transaction, oldest job first; removes uploads a
    stopped node left half-stored."""

    def step() -> bool:
        batch.discard_abandoned(node)
        return batch.run_pending(node, cache, max_chunks=1) > 0

    return _Loop("batch-worker", step, interval)


def tree_head_publisher(node: ServiceContext, *, interval: float = 60.0) -> _Loop:
    """Signs a tree head whenever the log has grown, at most every ``interval`` seconds."""

    def step() -> bool:
        audit.publish_tree_head(node)
        return False

    return _Loop("tree-heads", step, interval)


def retention_keeper(node: ServiceContext, *, interval: float = 6 * 3600.0) -> _Loop:
    """Deletes access-log content past the 7-year retention, with a signed receipt."""

    def step() -> bool:
        started = time.monotonic()
        result = audit.apply_retention(node)
        if result.count:
            log.info(
                "retention: %d entries deleted in %.1f s (receipt at %s)",
                result.count,
                time.monotonic() - started,
                result.receipt_position,
            )
        return False

    return _Loop("retention", step, interval)
