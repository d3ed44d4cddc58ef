"""Keeping the revocation list current on a running node (the schedule: domain.revocation).

Every node runs :func:`check_crl` every minute. The node whose PKI folder holds the CA's signer
(``ca.key`` or the PKCS#11 token: the CA's own host) republishes the list once half its seven
days are gone; every node then picks up the published file — into its trust anchor and into
the TLS contexts of its running servers and clients — and reports how long its list has left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jukinet.domain.revocation import DEFAULT_POLICY, CrlState, RevocationPolicy
from jukinet.network.context import NetworkContext
from jukinet.network.pki import CaSigner

#: The node's health status for each state of its list.
_HEALTH = {CrlState.FRESH: "ok", CrlState.EXPIRING: "warning", CrlState.EXPIRED: "failing"}


@dataclass(frozen=True)
class CrlCheck:
    """One check: the list's state now, until when it is valid, and whether it was just signed."""

    state: CrlState
    next_update: datetime
    republished: bool
    seconds_left: float


def check_crl(
    net: NetworkContext,
    *,
    now: datetime,
    signer: CaSigner | None,
    policy: RevocationPolicy = DEFAULT_POLICY,
) -> CrlCheck:
    """Republish the CRL if due and ``signer`` is here, load what is published, judge it."""
    republished = signer is not None and net.pki.republish_crl_if_due(
        signer, now=now, policy=policy
    )
    next_update = net.anchor().crl_next_update  # the published list, into TLS contexts too
    return CrlCheck(
        state=policy.state(next_update, now=now),
        next_update=next_update,
        republished=republished,
        seconds_left=(next_update - now).total_seconds(),
    )


def revocation_health(
    net: NetworkContext, *, now: datetime, policy: RevocationPolicy = DEFAULT_POLICY
) -> dict[str, Any]:
    """The health answer's part about the CRL: ``status`` and ``revocation_list``."""
    check = check_crl(net, now=now, signer=None, policy=policy)
    return {
        "status": _HEALTH[check.state],
        "revocation_list": {
            "state": check.state.value,
            "next_update": check.next_update.isoformat(),
            "hours_left": round(check.seconds_left / 3600, 2),
        },
    }
