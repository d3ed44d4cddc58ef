"""Signals from operators' own events: a cloned card (ALERT) and a locked account (WARNING).

A card whose signature counter went backwards has been copied: the sign-in was refused and the
card revoked, and security staff must find out who holds the copy. A lockout after repeated
failures may be a forgotten password or someone guessing; staff should ask the operator.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from jukinet.domain.insider_signals.model import Severity, Signal, SignalKind
from jukinet.domain.operator_events import OperatorEvent


@dataclass(frozen=True, slots=True)
class OperatorIncident:
    """A logged operator event that security staff must see: whose, which, and when (JST)."""

    actor: str
    event: OperatorEvent
    day: date
    detail: str


def operator_signals(incidents: Iterable[OperatorIncident]) -> list[Signal]:
    """One signal per cloned card or locked account."""
    signals: list[Signal] = []
    for incident in incidents:
        cloned = incident.event is OperatorEvent.CARD_CLONED
        signals.append(
            Signal(
                kind=SignalKind.OPERATOR_CARD,
                severity=Severity.ALERT if cloned else Severity.WARNING,
                actor=incident.actor,
                subject=None,
                day=incident.day,
                count=1,
                baseline=None,
                summary_ja=(
                    f"{incident.actor} の操作者カードの複製が検知され、カードを失効しました。"
                    if cloned
                    else f"{incident.actor} のアカウントがログイン失敗の連続でロックされました。"
                ),
                summary_en=(
                    f"A copy of {incident.actor}'s operator card was detected; the card is revoked."
                    if cloned
                    else f"{incident.actor}'s account was locked after repeated failed sign-ins."
                ),
                evidence={"event": incident.event.value, "detail": incident.detail[:120]},
            )
        )
    return signals
