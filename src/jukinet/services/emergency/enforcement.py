"""What a threat level or a cut refuses, asked by the adapters and the provision service.

The state in force is the node's cached :class:`~jukinet.domain.emergency.EmergencyState`
(read at start, after each decision here, and every few seconds by the running node), judged
against the node's clock, so a cut expires on time without a read.
"""

from __future__ import annotations

from jukinet.domain.emergency import ReadOnlyMode, ServiceSuspended
from jukinet.domain.operators import Permission
from jukinet.network.node import NetworkNode

#: Route permissions that change personal data (refused while the level is 3 or above).
#: Reporting a card lost stays open: it protects the resident.
PERSONAL_DATA_WRITES = frozenset(
    {
        Permission.FILE_EVENTS,
        Permission.EX_OFFICIO,
        Permission.ISSUE_RESIDENT_CARDS,
        Permission.ENROL_CARD_SERVICES,
    }
)
_READS = frozenset({"GET", "HEAD", "OPTIONS"})


def check_provision_open(node: NetworkNode, recipient: str, affair: str) -> None:
    """Refuse an agency's query while a cut or the level stops it (503 with Retry-After)."""
    now = node.now()
    cut = node.emergency.provision_cut(recipient, affair, now)
    if cut is not None:
        raise ServiceSuspended(cut.reason[:120], retry_after=cut.seconds_left(now))


def check_writable(node: NetworkNode, method: str, permission: object) -> None:
    """Refuse a write to personal data while the node is read-only (level 3 and above)."""
    if method.upper() in _READS or permission not in PERSONAL_DATA_WRITES:
        return
    if node.emergency.read_only:
        raise ReadOnlyMode(node.emergency.effective_level)


def check_link_open(node: NetworkNode, peer: str) -> ServiceSuspended | None:
    """The refusal for a neighbour's envelopes while the link to it is cut (or ``None``)."""
    now = node.now()
    cut = node.emergency.link_cut(peer, now, inbound=True)
    if cut is None:
        return None
    return ServiceSuspended(cut.reason[:120], retry_after=cut.seconds_left(now))
