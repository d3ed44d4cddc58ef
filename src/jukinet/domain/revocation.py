"""When the network's revocation list (CRL) must be republished, and when to raise the alarm.

Pure: times come from the caller. A CRL is valid from ``lastUpdate`` to ``nextUpdate``; after
that every mutual-TLS handshake that checks it fails ("CRL has expired"), which stops the whole
network. So the node holding the CA key republishes once less than half the validity is left —
days before expiry, however long it was down — and every node raises an alert when its list
has less than :attr:`RevocationPolicy.alert_when_left` to go, and a louder one once it expired.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

#: How long a published CRL is valid (its nextUpdate − lastUpdate).
CRL_VALIDITY = timedelta(days=7)
#: lastUpdate is set this far back so that a node whose clock lags the CA's a little does not
#: see the new list as "not yet valid" (certificates are back-dated the same way).
CRL_BACKDATE = timedelta(minutes=5)


class CrlState(StrEnum):
    """How a node's revocation list stands at a given moment."""

    #: More than the alert margin left.
    FRESH = "fresh"
    #: Still valid, but expiring within the alert margin: someone must republish.
    EXPIRING = "expiring"
    #: Past nextUpdate: handshakes are refused (fail closed) until a new list is published.
    EXPIRED = "expired"


@dataclass(frozen=True)
class RevocationPolicy:
    """The schedule: republish when less than ``republish_when_left`` is left; alert when less
    than ``alert_when_left`` is left (the republisher should have acted days before)."""

    validity: timedelta = CRL_VALIDITY
    republish_when_left: timedelta = CRL_VALIDITY / 2
    alert_when_left: timedelta = timedelta(days=2)

    def __post_init__(self) -> None:
        # An alert margin wider than the republishing one would alarm on every healthy list.
        if not timedelta(0) < self.alert_when_left < self.republish_when_left < self.validity:
            msg = "need 0 < alert_when_left < republish_when_left < validity"
            raise ValueError(msg)

    def state(self, next_update: datetime, *, now: datetime) -> CrlState:
        """The state of a list that is valid until ``next_update``."""
        left = next_update - now
        if left <= timedelta(0):
            return CrlState.EXPIRED
        if left < self.alert_when_left:
            return CrlState.EXPIRING
        return CrlState.FRESH

    def republish_due(self, next_update: datetime, *, now: datetime) -> bool:
        """Whether the CA holder should sign a new list now (an expired one is overdue)."""
        return next_update - now < self.republish_when_left


DEFAULT_POLICY = RevocationPolicy()
