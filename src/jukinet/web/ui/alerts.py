"""The insider-alert page for security staff and supervisors (不正利用の兆候), and its CSV.

Only operators with :attr:`Permission.AUDIT` see it; anyone else gets the usual refusal page.
Resident codes are shown masked: the list is for spotting patterns, and the full code of a
MANY_READERS subject is in the API answer for the investigation that follows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from jukinet.domain.codes import mask_resident_code
from jukinet.domain.errors import DomainError
from jukinet.domain.insider_signals import (
    JST,
    BusinessHours,
    Severity,
    Signal,
    SignalKind,
    SignalThresholds,
)
from jukinet.domain.operators import Actor, Permission
from jukinet.domain.wareki import format_wareki, parse_date
from jukinet.services import security_signals
from jukinet.services.context import ServiceContext
from jukinet.web.auth import NodeDep
from jukinet.web.ui.common import PAGE_HEADERS, PageActor, error_page, render
from jukinet.web.ui.i18n import Translator, request_lang

router = APIRouter(include_in_schema=False)

#: Evidence items the page shows, in this order (the rest are in the CSV and the API).
_SHOWN_EVIDENCE: Final[Mapping[SignalKind, tuple[str, ...]]] = {
    SignalKind.VOLUME: (
        "actor_kind",
        "median",
        "limit",
        "ratio",
        "history_active_days",
        "new_actor",
        "peer_actors",
        "peer_median",
    ),
    # The subject is in its own column already.
    SignalKind.MANY_READERS: ("readers", "first_read", "last_read"),
    SignalKind.OFF_HOURS: ("actor_kind", "day_type", "first_read", "last_read", "business_hours"),
}
_SEVERITIES: Final = (Severity.ALERT, Severity.WARNING, Severity.NOTICE)


@dataclass(frozen=True, slots=True)
class SignalRow:
    """One signal as the page shows it: codes masked, summary and evidence in one language."""

    kind: str
    severity: str
    actor: str | None
    subject_masked: str | None
    count: int
    summary: str
    evidence: list[tuple[str, str]]


#: Evidence items holding a code word that the page translates (``workday`` → 平日).
_CODED_EVIDENCE: Final = frozenset({"actor_kind", "day_type"})
#: Evidence items holding an ISO date-time in Japan time.
_MOMENT_EVIDENCE: Final = frozenset({"first_read", "last_read"})


def _evidence_text(key: str, value: object, text: Translator) -> str:
    """One evidence value as the page shows it, in the page's language."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return text("alerts.yes") if value else text("alerts.no")
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, str) and key in _CODED_EVIDENCE:
        return text(f"alerts.{key}.{value}")
    if isinstance(value, str) and key in _MOMENT_EVIDENCE:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if moment.tzinfo is not None:
            moment = moment.astimezone(JST)
        return f"{moment:%Y-%m-%d %H:%M:%S} {text('alerts.jst')}"
    if isinstance(value, float):
        # Counts and limits arrive as floats from JSON arithmetic: 50.0 reads as a typo.
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _row(signal: Signal, text: Translator) -> SignalRow:
    evidence = security_signals.masked_evidence(signal)
    shown = [
        (text(f"alerts.ev.{key}"), _evidence_text(key, evidence[key], text))
        for key in _SHOWN_EVIDENCE.get(signal.kind, ())
        if key in evidence
    ]
    return SignalRow(
        kind=signal.kind.value,
        severity=signal.severity.value,
        actor=signal.actor,
        subject_masked=None if signal.subject is None else mask_resident_code(signal.subject),
        count=signal.count,
        summary=signal.summary_en if text.lang == "en" else signal.summary_ja,
        evidence=shown,
    )


def _parse_day(raw: str | None) -> date | None:
    """The typed day (ISO or 和暦); ``None`` for today. Raises a ValidationError on ``day``."""
    if raw is None or not raw.strip():
        return None
    return parse_date(raw, field="day")


def _refusal(request: Request, actor: Actor) -> HTMLResponse | None:
    """The refusal page for an operator without AUDIT, checked before the day is even read."""
    try:
        actor.require(Permission.AUDIT)
    except DomainError as error:
        return error_page(request, actor, error)
    return None


@router.get("/security/alerts")
def alerts_page(
    request: Request, node: NodeDep, actor: PageActor, day: str | None = None
) -> HTMLResponse:
    """The alert list for one JST day (today by default), grouped by severity."""
    refused = _refusal(request, actor)
    if refused is not None:
        return refused
    text = Translator(request_lang(request))
    thresholds, hours = SignalThresholds(), BusinessHours()
    error: str | None = None
    signals: list[Signal] = []
    judged: date | None = None
    try:
        judged = _parse_day(day) or node.today()
        signals = security_signals.alerts(
            node, actor=actor, day=judged, thresholds=thresholds, hours=hours
        )
    except DomainError as problem:
        if problem.status == 403:
            return error_page(request, actor, problem)
        error, judged = problem.message(text.lang), None
    rows = [_row(signal, text) for signal in signals]
    groups = [
        (severity.value, [r for r in rows if r.severity == severity]) for severity in _SEVERITIES
    ]
    return render(
        request,
        "alerts.html",
        {
            "day_value": day if day is not None else "",
            "day_error": error,
            "judged": judged,
            "groups": groups,
            "total": len(rows),
            "csv_url": (
                f"/security/alerts.csv?{urlencode({'day': judged.isoformat()})}" if judged else None
            ),
            "thresholds": thresholds,
            "hours": hours,
            "baseline_until": _baseline_until(node, judged, text.lang),
        },
        status=422 if error else 200,
        actor=actor,
    )


def _baseline_until(node: ServiceContext, judged: date | None, lang: str) -> str | None:
    """The day new actors' volume starts to be judged, while the judged day is before it."""
    start = security_signals.baseline_start(node)
    if judged is None or (start is not None and judged >= start):
        return None
    if start is None:
        start = node.today() + timedelta(days=security_signals.BASELINE_DAYS)
    return format_wareki(start, lang=lang)


@router.get("/security/alerts.csv", response_model=None)
def alerts_csv(
    request: Request, node: NodeDep, actor: PageActor, day: str | None = None
) -> Response:
    """The same list as a CSV file (UTF-8 with a byte-order mark, so spreadsheets read the
    Japanese correctly); resident codes are masked."""
    refused = _refusal(request, actor)
    if refused is not None:
        return refused
    try:
        judged = _parse_day(day) or node.today()
        signals = security_signals.alerts(node, actor=actor, day=judged)
    except DomainError as problem:
        return error_page(request, actor, problem)
    body = "\ufeff" + security_signals.alerts_csv(signals)
    headers = {
        **PAGE_HEADERS,
        "Content-Disposition": f'attachment; filename="alerts-{judged.isoformat()}.csv"',
    }
    return Response(body, media_type="text/csv; charset=utf-8", headers=headers)
