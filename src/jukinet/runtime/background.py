"""A node's background work besides delivery: batch jobs, signed tree heads, log retention,
the revocation list.

Each runs in its own thread and survives its own errors (logged without personal data, retried
on the next round); stopping is prompt because every wait is on an event.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from jukinet.config import CA_PIN_VARIABLE
from jukinet.domain.revocation import CrlState
from jukinet.network.ca import TOKEN_FILE, CaSignerUnavailable, ca_signer_of
from jukinet.network.context import NetworkContext
from jukinet.network.crl import CrlCheck, check_crl
from jukinet.network.inbox import record_handshake_refusals
from jukinet.network.pki import CaSigner
from jukinet.services import (
    audit,
    batch,
    batch_results,
    code_blocks,
    codes,
    deadlines,
    head_publication,
    idempotency,
)
from jukinet.services.card_move.move_in import lapse_overdue_cards
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
            if self.run_once():
                continue
            self.wake.wait(self.interval)
            self.wake.clear()

    def run_once(self) -> bool:
        """One step, now, in the caller's thread; ``True`` if there is more to do at once."""
        try:
            return self._step()
        except Exception as error:  # keep the node alive; the step is retried next round
            log.warning("%s failed: %s", self.name, type(error).__name__)
            return False

    def stop(self) -> None:
        """Ask the loop to finish its current step and end."""
        self.stopping.set()
        self.wake.set()


def batch_worker(node: ServiceContext, cache: RegistryCache, *, interval: float = 1.0) -> _Loop:
    """Answers queued batch jobs one chunk per transaction, oldest job first; when idle, deletes
    results past their keeping period and uploads a stopped node left half-stored."""

    def step() -> bool:
        batch.discard_abandoned(node)
        if batch.run_pending(node, cache, max_chunks=1) > 0:
            return True
        batch_results.expire_results(node)
        return False

    return _Loop("batch-worker", step, interval)


def tree_head_publisher(node: ServiceContext, *, interval: float = 60.0) -> _Loop:
    """Signs a tree head whenever the log has grown, at most every ``interval`` seconds, and
    (on the network) publishes it to the node's witnesses, which countersign it."""

    def step() -> bool:
        head_publication.publish(node)
        return False

    return _Loop("tree-heads", step, interval)


def retention_keeper(node: ServiceContext, *, interval: float = 6 * 3600.0) -> _Loop:
    """Deletes access-log content past the 7-year retention, with a signed receipt, and the
    answers kept for idempotency keys past their day; lapses the cards that moved in and were
    not continued within 90 days (転入転出の特例)."""

    def step() -> bool:
        idempotency.forget_expired(node)
        lapsed = lapse_overdue_cards(node)
        if lapsed:
            log.info("card move: %d card(s) not continued within 90 days lapsed", lapsed)
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


def handshake_recorder(
    node: ServiceContext, net: NetworkContext, *, interval: float = 2.0
) -> _Loop:
    """Writes the TLS handshakes the server refused (revoked, expired or foreign certificates)
    to the network rejections, where the security console sees them."""

    def step() -> bool:
        record_handshake_refusals(node, net)
        return False

    return _Loop("tls-refusals", step, interval)


def participation_watcher(
    node: ServiceContext, on_change: Callable[[], None], *, interval: float = 2.0
) -> _Loop:
    """Reads the municipality's participation state again, so a change made by the command
    line (another process) takes effect in the running node; ``on_change`` wakes delivery."""

    def step() -> bool:
        before = node.participation
        if node.refresh_participation() != before:
            log.info("participation: %s → %s", before, node.participation)
            on_change()
        return False

    return _Loop("participation", step, interval)


def deadline_watcher(node: ServiceContext, *, interval: float = 60.0) -> _Loop:
    """Checks the delivery deadlines: unacknowledged notices past theirs open an episode on
    the delivery ledger and an alert on the security console (issue 12, item 5)."""

    def step() -> bool:
        overdue = deadlines.check_deadlines(node)
        if overdue:
            log.warning(
                "deadlines: %d message(s) overdue on %d link(s)",
                sum(o.count for o in overdue),
                len({o.peer for o in overdue}),
            )
        return False

    return _Loop("deadlines", step, interval)


#: A municipality on the network asks the centre for a block when fewer codes than this are left.
CODE_POOL_LOW_WATER = 1_000
#: The size of the block it asks for.
CODE_BLOCK_SIZE = 10_000


def code_pool_keeper(node: ServiceContext, *, interval: float = 60.0) -> _Loop:
    """Asks the national centre (through the prefecture) for a block of resident codes
    whenever a connected municipality's pool runs low."""

    def step() -> bool:
        if not node.connected or codes.pool_size(node) >= CODE_POOL_LOW_WATER:
            return False
        block = code_blocks.fetch_block(node, count=CODE_BLOCK_SIZE)
        log.info("code pool: block %s of %d codes received", block.block_id, block.size)
        return False

    return _Loop("code-pool", step, interval)


#: While the list is expiring or expired, the alert is logged again this often.
CRL_ALERT_REPEAT_SECONDS = 3600.0


def crl_keeper(node: ServiceContext, net: NetworkContext, *, interval: float = 60.0) -> _Loop:
    """Republishes the CRL here if this node holds the CA's signer and the list is half gone;
    picks up a list published elsewhere; logs an alert while it is expiring or expired."""
    signer: list[CaSigner] = []  # opened once: a PKCS#11 session is not free
    alerted: dict[str, float] = {}
    told_pin_missing: list[bool] = []

    def step() -> bool:
        if not signer:
            found = _ca_signer(net, quiet=bool(told_pin_missing))
            if found is not None:
                signer.append(found)
            elif not told_pin_missing and (net.pki.folder / TOKEN_FILE).exists():
                told_pin_missing.append(True)
        check = check_crl(net, now=node.now(), signer=signer[0] if signer else None)
        if check.republished:
            log.info("revocation list republished; valid until %s", check.next_update.isoformat())
        _alert(check, alerted)
        return False

    return _Loop("crl-keeper", step, interval)


def _ca_signer(net: NetworkContext, *, quiet: bool) -> CaSigner | None:
    try:
        return ca_signer_of(net.pki, pin=os.environ.get(CA_PIN_VARIABLE))
    except CaSignerUnavailable:
        if quiet:  # said once at start-up; the expiry alert takes over from there
            return None
        log.warning(
            "the CA key is in a PKCS#11 token but %s is not set: the revocation list is "
            "not republished here",
            CA_PIN_VARIABLE,
        )
        return None


def _alert(check: CrlCheck, alerted: dict[str, float]) -> None:
    """Log the CRL alert when the state changes, and again every hour while it lasts."""
    if check.state is CrlState.FRESH:
        alerted.clear()
        return
    now = time.monotonic()
    if now - alerted.get(check.state.value, -CRL_ALERT_REPEAT_SECONDS) < CRL_ALERT_REPEAT_SECONDS:
        return
    alerted.clear()
    alerted[check.state.value] = now
    if check.state is CrlState.EXPIRING:
        log.warning(
            "network revocation list expires in %.1f h (at %s): the CA must republish it "
            "('jukinet pki crl'); after that every mutual-TLS handshake is refused",
            check.seconds_left / 3600,
            check.next_update.isoformat(),
        )
    else:
        log.error(
            "network revocation list EXPIRED at %s: every mutual-TLS handshake is refused "
            "until the CA republishes it ('jukinet pki crl')",
            check.next_update.isoformat(),
        )
