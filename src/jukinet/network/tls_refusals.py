"""Handshakes the node's TLS server refused: kept so that security staff can see them.

A revoked, expired or foreign client certificate is refused inside the TLS handshake, before any
request exists, so no request handler ever hears of it. The server's TLS context therefore
makes its connections with :class:`RecordingSSLObject`, which notes each failed handshake's
reason (OpenSSL's verification message: "certificate revoked", "certificate has expired",
"unable to get local issuer certificate"…) in a bounded, thread-safe collector; the node's
background worker writes them to ``network_rejections`` (:func:`jukinet.network.inbox.
record_handshake_refusals`). The event loop never waits on the database, and a flood of
handshakes costs at most :data:`MAX_PENDING` notes (the rest are counted, not kept).
"""

from __future__ import annotations

import datetime as dt
import ssl
import threading
from collections import deque
from dataclasses import dataclass
from typing import Final

#: Notes kept between two flushes; beyond that only a count.
MAX_PENDING: Final = 10_000


@dataclass(frozen=True, slots=True)
class HandshakeRefusal:
    """One refused handshake: when, and why (never the peer's data)."""

    at: dt.datetime
    reason: str


class HandshakeRefusals:
    """Failed handshakes noted by the TLS layer, taken by the recording worker."""

    def __init__(self, *, limit: int = MAX_PENDING) -> None:
        self._pending: deque[HandshakeRefusal] = deque()
        self._limit = limit
        self._lock = threading.Lock()
        self._dropped = 0

    def note(self, reason: str) -> None:
        """Keep one refusal (called from the event loop: never blocks on I/O)."""
        refusal = HandshakeRefusal(at=dt.datetime.now(dt.UTC), reason=reason[:180])
        with self._lock:
            if len(self._pending) >= self._limit:
                self._dropped += 1
                return
            self._pending.append(refusal)

    def take(self) -> tuple[list[HandshakeRefusal], int]:
        """The refusals noted since the last call, and how many were dropped meanwhile."""
        with self._lock:
            taken = list(self._pending)
            self._pending.clear()
            dropped, self._dropped = self._dropped, 0
        return taken, dropped


def _reason(error: ssl.SSLError) -> str:
    if isinstance(error, ssl.SSLCertVerificationError) and error.verify_message:
        return f"TLS handshake refused: {error.verify_message}"
    return f"TLS handshake refused: {error.reason or type(error).__name__}"


def record_failed_handshakes(context: ssl.SSLContext, refusals: HandshakeRefusals) -> None:
    """Make ``context``'s server connections note every handshake they refuse in ``refusals``."""

    class RecordingSSLObject(ssl.SSLObject):
        def do_handshake(self) -> None:
            try:
                super().do_handshake()
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                raise  # not a refusal: the handshake is waiting for bytes
            except ssl.SSLError as error:
                refusals.note(_reason(error))
                raise

    context.sslobject_class = RecordingSSLObject
