"""Raising and listing security alerts (``security_alerts``): one home for both."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from jukinet.storage.trust_tables import SecurityAlertRow

log = logging.getLogger(__name__)

#: A notice whose originating municipality's signature fails at a tier it was relayed to.
ORIGIN_SIGNATURE: Final = "origin_signature"
#: A node's new tree head does not extend the one its witness holds: its log was rewritten.
LOG_REWRITTEN: Final = "log_rewritten"
#: A relay handed over an origin seal this node had accepted before (or one too old to tell).
ORIGIN_REPLAY: Final = "origin_replay"
#: Notices on a link past their delivery deadline (unacknowledged here, or received late).
DELIVERY_OVERDUE: Final = "delivery_overdue"


def raise_alert(session: Session, *, kind: str, about: str, reason: str, now: datetime) -> None:
    """Record an alert in the caller's transaction and log it (no personal data in either:
    ``reason`` names nodes, sizes and checks, never a resident)."""
    session.add(SecurityAlertRow(kind=kind, about=about[:60], reason=reason[:400], raised_at=now))
    log.error("security alert %s about %s: %s", kind, about, reason[:200])


def raise_alert_once(
    session: Session, *, kind: str, about: str, reason: str, now: datetime
) -> None:
    """:func:`raise_alert` unless the same alert is already on record (a check that fails the
    same way on every retry raises it once)."""
    known = session.scalar(
        select(SecurityAlertRow.id).where(
            SecurityAlertRow.kind == kind,
            SecurityAlertRow.about == about[:60],
            SecurityAlertRow.reason == reason[:400],
        )
    )
    if known is None:
        raise_alert(session, kind=kind, about=about, reason=reason, now=now)


def recent_alerts(session: Session, *, limit: int = 100) -> list[SecurityAlertRow]:
    """The latest alerts, newest first."""
    return list(
        session.scalars(
            select(SecurityAlertRow)
            .order_by(SecurityAlertRow.raised_at.desc(), SecurityAlertRow.id.desc())
            .limit(limit)
        )
    )
