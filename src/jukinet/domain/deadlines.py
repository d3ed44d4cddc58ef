"""Delivery deadlines: how long each kind of notice may take to reach the next node (pure).

The Basic Resident Register Act asks for most notices "without delay" (遅滞なく, e.g. the
move-in notice to the old municipality, 転入通知, Art. 9(1)) or "at once" (直ちに) and names
no number of hours, so the numbers below are this system's choices, set per node
(``JUKINET_DELIVERY_DEADLINES``: kind → seconds) where a council decides otherwise:

- identity messages (notice, snapshot, withdrawal): **1 hour** — the network's information
  must follow the register within the hour (issue 12, item 5);
- a card status notice: **1 hour** — a suspended (lost) card must stop being accepted
  elsewhere as soon as the network can carry it; no statute names a shorter time;
- an incident notice (threat level 2 and above) and an emergency order of the centre (a
  quarantine, a network-wide suspension or level): **15 minutes** — the runbook of domain.md §6
  says "respond now, tell the prefecture and centre"; a cut that arrives an hour late is no cut;
- a routed message (the move-in notice, 転入通知): **24 hours** — the Act's 遅滞なく; the old
  municipality acts on it the next working day at the latest.

A node judges a message overdue when it is still unacknowledged past its deadline (the
sending end), or when it arrives later than its deadline plus :data:`CLOCK_SKEW` after it was
sealed or put on the link (the receiving end: clocks of two nodes may differ by up to five
minutes, issue 12).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Final

from jukinet.domain.errors import ValidationError
from jukinet.domain.messages import MessageKind

HOUR: Final = 3600.0

#: Each kind's deadline in seconds unless the node's settings say otherwise.
DEFAULT_DEADLINES: Final[Mapping[MessageKind, float]] = {
    MessageKind.IDENTITY_NOTICE: HOUR,
    MessageKind.IDENTITY_SNAPSHOT: HOUR,
    MessageKind.IDENTITY_WITHDRAWAL: HOUR,
    MessageKind.CARD_STATUS_NOTICE: HOUR,
    MessageKind.ROUTED: 24 * HOUR,
    MessageKind.MOVE_IN_NOTICE: 24 * HOUR,
    MessageKind.INCIDENT_NOTICE: HOUR / 4,
    MessageKind.EMERGENCY_ORDER: HOUR / 4,
}

#: How far two nodes' clocks may differ without a message counting as late on arrival.
CLOCK_SKEW: Final = timedelta(minutes=5)

#: The shortest and longest deadline a node may set (a minute; thirty days).
SHORTEST: Final = 60.0
LONGEST: Final = 30 * 24 * HOUR


def deadlines(overrides: Mapping[str, float] | None = None) -> dict[MessageKind, timedelta]:
    """Every kind's deadline: the defaults with ``overrides`` (kind's wire name → seconds).

    Raises a :class:`ValidationError` (JUKI-DLV-001) naming an unknown kind or a deadline
    outside :data:`SHORTEST`–:data:`LONGEST`.
    """
    seconds = {kind: DEFAULT_DEADLINES[kind] for kind in MessageKind}
    for name, value in (overrides or {}).items():
        try:
            kind = MessageKind(name)
        except ValueError:
            raise ValidationError(
                "JUKI-DLV-001",
                ja=f"配達期限の種類 {name!r} はありません。",
                en=f"no such kind of notice for a delivery deadline: {name!r}",
                field="delivery_deadlines",
            ) from None
        if not SHORTEST <= float(value) <= LONGEST:
            raise ValidationError(
                "JUKI-DLV-002",
                ja=f"{name} の配達期限は 60 秒から 30 日の間で指定してください。",
                en=f"the delivery deadline of {name} must be between 60 seconds and 30 days",
                field="delivery_deadlines",
            )
        seconds[kind] = float(value)
    return {kind: timedelta(seconds=s) for kind, s in seconds.items()}


def deadline_of(kind: str, table: Mapping[MessageKind, timedelta]) -> timedelta:
    """The deadline of a message of ``kind`` (an unknown kind: the longest one, never none)."""
    try:
        return table[MessageKind(kind)]
    except (ValueError, KeyError):
        return max(table.values())
