"""The insider-alert page for security staff and supervisors (不正利用の兆候), and its CSV.

Only operators with :attr:`Permission.AUDIT` see it; anyone else gets the usual refusal page.
Resident codes are shown masked: the list is for spotting patterns, and the full code of a
MANY_READERS subject is in the API answer for the investigation that follows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
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
from jukinet.domain.wareki import parse_date
from jukinet.services import security_signals
from jukinet.web.auth import NodeDep
from jukinet.web.ui.common import PAGE_HEADERS, PageActor, error_page, render
from jukinet.web.ui.i18n import request_lang

router = APIRouter(include_in_schema=False)

#: The page's own labels, key -> (Japanese, English); kept here so the feature is in one place.
ALERT_LABELS: Final[Mapping[str, tuple[str, str]]] = {
    "title": ("不正利用の兆候", "Insider alerts"),
    "lead": (
        "アクセスログから、通常より多い参照、同じ住民への多数の職員による参照、"
        "業務時間外の参照を抽出します。兆候は不正の証明ではありません。"
        "業務上の理由を確認してください。",
        "Drawn from the access log: reads far above an actor's norm, one resident read by "
        "many operators, and reads outside business hours. A signal is not proof of misuse: "
        "check the business reason.",
    ),
    "day": ("対象日", "Day"),
    "day_hint": (
        "例：2026-11-26・令和8年11月26日（空欄は本日）",
        "e.g. 2026-11-26 or 令和8年11月26日 (empty for today)",
    ),
    "show": ("表示", "Show"),
    "csv": ("CSV をダウンロード", "Download CSV"),
    "csv_note": ("CSV の住民票コードもマスクされます。", "Resident codes are masked in the CSV."),
    "for_day": ("{day}の兆候", "Signals for {day}"),
    "count": ("{n} 件", "{n}"),
    "none": ("この日の兆候はありません。", "No signals for this day."),
    "none_at_level": ("ありません。", "None."),
    "severity.alert": ("警報", "Alert"),
    "severity.warning": ("警告", "Warning"),
    "severity.notice": ("注意", "Notice"),
    "kind": ("種類", "Kind"),
    "kind.volume": ("参照件数の急増", "Unusual volume"),
    "kind.many_readers": ("多数の職員による参照", "Many readers"),
    "kind.off_hours": ("業務時間外の参照", "Outside business hours"),
    "who": ("操作者・対象", "Actor or resident"),
    "resident": ("住民票コード（マスク）", "Resident code (masked)"),
    "number": ("件数・人数", "Reads / readers"),
    "summary": ("内容", "Summary"),
    "evidence": ("根拠", "Evidence"),
    "rules": ("判定の基準", "Rules"),
    "rule.volume": (
        "参照件数：過去{history}日の中央値の{multiplier}倍と{floor}件の大きい方を超えた日。",
        "Volume: more reads than the greater of {multiplier}× the {history}-day median "
        "and {floor}.",
    ),
    "rule.many_readers": (
        "多数の参照者：同じ住民を{window}日間に{readers}人以上の操作者が参照。",
        "Many readers: one resident read by {readers} or more operators within {window} days.",
    ),
    "rule.off_hours": (
        "業務時間外：平日 {start}〜{end}（日本時間）以外の参照。",
        "Off hours: reads outside {start}–{end} JST on working days.",
    ),
    "yes": ("はい", "yes"),
    "no": ("いいえ", "no"),
    "jst": ("日本時間", "JST"),
    "actor_kind.operator": ("操作者", "operator"),
    "actor_kind.recipient": ("受領者（機関）", "recipient (agency)"),
    "day_type.workday": ("平日", "working day"),
    "day_type.non_workday": ("閉庁日", "non-working day"),
    "day_type.holiday": ("祝日・休庁日", "public holiday"),
    # Evidence items; an item without a label shows its key.
    "ev.actor_kind": ("種別", "Actor kind"),
    "ev.median": ("過去の中央値", "Median"),
    "ev.limit": ("基準件数", "Limit"),
    "ev.ratio": ("基準比", "Ratio to baseline"),
    "ev.history_days": ("比較期間（日）", "History (days)"),
    "ev.history_active_days": ("参照のあった日数", "Active days"),
    "ev.new_actor": ("新規", "New actor"),
    "ev.peer_actors": ("同種の操作者数", "Peers that day"),
    "ev.peer_median": ("同種の中央値", "Peer median"),
    "ev.readers": ("参照者", "Readers"),
    "ev.window_start": ("期間開始", "Window start"),
    "ev.window_end": ("期間終了", "Window end"),
    "ev.first_read": ("最初の参照", "First read"),
    "ev.last_read": ("最後の参照", "Last read"),
    "ev.day_type": ("日の種類", "Day type"),
    "ev.business_hours": ("業務時間", "Business hours"),
}

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


class AlertText:
    """This page's labels in one language; templates receive it as ``at``."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self._index = 1 if lang == "en" else 0

    def __call__(self, key: str, **values: object) -> str:
        """The label for ``key`` (the key itself if missing), placeholders filled in."""
        pair = ALERT_LABELS.get(key)
        text = key if pair is None else pair[self._index]
        return text.format(**values) if values else text


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


def _evidence_text(key: str, value: object, text: AlertText) -> str:
    """One evidence value as the page shows it, in the page's language."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return text("yes") if value else text("no")
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, str) and key in _CODED_EVIDENCE:
        return text(f"{key}.{value}")
    if isinstance(value, str) and key in _MOMENT_EVIDENCE:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if moment.tzinfo is not None:
            moment = moment.astimezone(JST)
        return f"{moment:%Y-%m-%d %H:%M:%S} {text('jst')}"
    return str(value)


def _row(signal: Signal, text: AlertText) -> SignalRow:
    evidence = security_signals.masked_evidence(signal)
    shown = [
        (text(f"ev.{key}"), _evidence_text(key, evidence[key], text))
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
    text = AlertText(request_lang(request))
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
            "at": text,
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
        },
        status=422 if error else 200,
        actor=actor,
    )


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
