"""Insider alerts over the operator API (security staff and supervisors: Permission.AUDIT).

The answer carries MANY_READERS subjects' full resident codes — staff need them to investigate —
beside the masked form; only AUDIT holders get an answer at all (403 otherwise).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from jukinet.domain.codes import mask_resident_code
from jukinet.domain.insider_signals import Severity, Signal, SignalKind, SignalThresholds
from jukinet.services import security_signals
from jukinet.web.auth import ApiActor, NodeDep
from jukinet.web.errors import ERROR_RESPONSES

router = APIRouter(tags=["security"], responses={k: ERROR_RESPONSES[k] for k in (401, 403, 422)})


class SignalOut(BaseModel):
    """One insider signal: what pattern, how urgent, who or whom, and the numbers behind it."""

    kind: SignalKind = Field(description="volume, many_readers or off_hours")
    severity: Severity = Field(description="notice, warning or alert (most urgent)")
    actor: str | None = Field(description="The operator or recipient (VOLUME, OFF_HOURS)")
    subject: str | None = Field(description="The full resident code (MANY_READERS)")
    subject_masked: str | None = Field(description="The resident code as screens show it")
    day: date = Field(description="The JST day judged (OFF_HOURS: the day of the reads)")
    count: int = Field(description="Reads (VOLUME, OFF_HOURS) or distinct readers")
    baseline: float | None = Field(description="The actor's median reads a day (VOLUME)")
    summary_ja: str
    summary_en: str
    evidence: dict[str, Any] = Field(description="The numbers behind the decision")

    @classmethod
    def of(cls, signal: Signal) -> SignalOut:
        """The API form of ``signal``."""
        data = signal.as_dict()
        return cls.model_validate(
            {
                **data,
                "subject_masked": (
                    None if signal.subject is None else mask_resident_code(signal.subject)
                ),
            }
        )


class ThresholdsOut(BaseModel):
    """The thresholds the signals were judged with."""

    volume_multiplier: float
    volume_floor: int
    history_days: int
    many_readers: int
    many_readers_window_days: int


class AlertsOut(BaseModel):
    """The alert list of one JST day, most urgent first."""

    day: date
    thresholds: ThresholdsOut
    signals: list[SignalOut]


@router.get("/security/alerts")
def alerts(
    node: NodeDep,
    actor: ApiActor,
    day: Annotated[
        date | None,
        Query(description="JST day (YYYY-MM-DD) within the log's retention; today by default"),
    ] = None,
) -> AlertsOut:
    """Insider signals for one day: unusual volume, many readers of one resident, off hours."""
    thresholds = SignalThresholds()
    judged = day or node.today()
    signals = security_signals.alerts(node, actor=actor, day=judged, thresholds=thresholds)
    return AlertsOut(
        day=judged,
        thresholds=ThresholdsOut.model_validate(thresholds, from_attributes=True),
        signals=[SignalOut.of(signal) for signal in signals],
    )
