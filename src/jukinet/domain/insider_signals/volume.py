"""VOLUME: an actor read far more on one day than its own recent norm."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta

from jukinet.domain.insider_signals.inputs import DailyCount
from jukinet.domain.insider_signals.model import Severity, Signal, SignalKind, signal_sort_key
from jukinet.domain.insider_signals.summaries import _kind_labels, _num
from jukinet.domain.insider_signals.thresholds import (
    VOLUME_ALERT_RATIO,
    VOLUME_WARNING_RATIO,
    SignalThresholds,
)
from jukinet.domain.insider_signals.validation import _require_date

__all__ = ["volume_signals"]


def _volume_severity(ratio: float) -> Severity:
    if ratio >= VOLUME_ALERT_RATIO:
        return Severity.ALERT
    if ratio >= VOLUME_WARNING_RATIO:
        return Severity.WARNING
    return Severity.NOTICE


def volume_signals(
    counts: Iterable[DailyCount],
    *,
    day: date,
    thresholds: SignalThresholds = SignalThresholds(),
    compare_peers: bool = True,
) -> list[Signal]:
    """VOLUME signals for ``day``: actors whose count is far above their own recent norm.

    ``counts`` holds per-actor, per-JST-day read counts covering ``day`` and the
    ``history_days`` days before it; rows for other days are ignored, rows repeating an actor
    and day are added up, and a missing day counts as zero. An actor (keyed by ``actor_kind``
    and ``actor``) with a count ``c`` on ``day`` fires when::

        c > limit = max(volume_multiplier × median(previous history_days days), volume_floor)

    so an actor without reads in its history (``new_actor`` in the evidence) fires only above
    the floor. Severity uses ``ratio = c / max(median, volume_floor / volume_multiplier)``:
    ALERT at ``ratio ≥ 10``, WARNING at ``ratio ≥ 5``, NOTICE otherwise.

    With ``compare_peers`` the evidence also carries the median count on ``day`` of all actors
    of the same kind that have a row for ``day`` (the actor itself included).

    Returns the signals sorted by :func:`signal_sort_key`.
    """
    _require_date(day, "day")
    history_start = day - timedelta(days=thresholds.history_days)
    per_actor: dict[tuple[str, str], dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for row in counts:
        if history_start <= row.day <= day:
            per_actor[(row.actor_kind, row.actor)][row.day] += row.count

    today_by_kind: dict[str, list[int]] = defaultdict(list)
    for (actor_kind, _actor), days in per_actor.items():
        if day in days:
            today_by_kind[actor_kind].append(days[day])

    multiplier = float(thresholds.volume_multiplier)
    floor = thresholds.volume_floor
    signals: list[Signal] = []
    for (actor_kind, actor), days in per_actor.items():
        count = days.get(day, 0)
        history = [
            days.get(day - timedelta(days=offset), 0)
            for offset in range(1, thresholds.history_days + 1)
        ]
        median = float(statistics.median(history))
        limit = max(multiplier * median, float(floor))
        if not count > limit:
            continue
        effective_baseline = max(median, floor / multiplier)
        ratio = count / effective_baseline
        active_days = sum(1 for n in history if n > 0)
        new_actor = active_days == 0
        evidence: dict[str, object] = {
            "actor_kind": actor_kind,
            "history_days": thresholds.history_days,
            "history_active_days": active_days,
            "new_actor": new_actor,
            "median": median,
            "multiplier": multiplier,
            "floor": floor,
            "limit": limit,
            "effective_baseline": round(effective_baseline, 4),
            "ratio": round(ratio, 2),
            "ratio_to_median": round(count / median, 2) if median > 0 else None,
        }
        label_ja, label_en = _kind_labels(actor_kind)
        summary_ja = (
            f"{label_ja} {actor}：{day.isoformat()} の参照 {count} 件が基準 {_num(limit)} 件"
            f"（過去{thresholds.history_days}日の中央値 {_num(median)} 件の {_num(multiplier)} 倍"
            f"と下限 {floor} 件の大きい方）を超えました。"
        )
        summary_en = (
            f"{label_en.capitalize()} {actor}: {count} reads on {day.isoformat()} exceed the "
            f"limit of {_num(limit)} (the greater of {_num(multiplier)}× the "
            f"{thresholds.history_days}-day median of {_num(median)} and the floor of {floor})."
        )
        if new_actor:
            summary_ja += f"過去{thresholds.history_days}日に参照はありません（新規）。"
            summary_en += f" No reads in the previous {thresholds.history_days} days (new actor)."
        if compare_peers:
            peers = today_by_kind[actor_kind]
            peer_median = float(statistics.median(peers))
            evidence["peer_actors"] = len(peers)
            evidence["peer_median"] = peer_median
            evidence["peer_ratio"] = round(count / peer_median, 2) if peer_median > 0 else None
            summary_ja += f"同日の同種 {len(peers)} 者の中央値は {_num(peer_median)} 件です。"
            summary_en += (
                f" Median of the {len(peers)} {label_en}(s) active that day: {_num(peer_median)}."
            )
        signals.append(
            Signal(
                kind=SignalKind.VOLUME,
                severity=_volume_severity(ratio),
                actor=actor,
                subject=None,
                day=day,
                count=count,
                baseline=median,
                summary_ja=summary_ja,
                summary_en=summary_en,
                evidence=evidence,
            )
        )
    signals.sort(key=signal_sort_key)
    return signals
