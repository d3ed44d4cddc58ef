"""Insider alerts from the access log on SQLite and PostgreSQL: each kind fires just past its
threshold and stays quiet at it; JST day boundaries; who may look; the CSV."""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

import pytest

from jukinet.domain.access_log import AccessEntry, Action, ActorKind, Channel
from jukinet.domain.codes import mask_resident_code, random_resident_codes
from jukinet.domain.errors import PermissionDenied
from jukinet.domain.insider_signals import (
    JST,
    BusinessHours,
    Severity,
    Signal,
    SignalKind,
    SignalThresholds,
)
from jukinet.domain.operators import Actor, Role
from jukinet.services.context import ServiceContext
from jukinet.services.security_signals import (
    BASELINE_DAYS,
    CSV_COLUMNS,
    AlertDayOutOfRange,
    alerts,
    alerts_csv,
    baseline_start,
    masked_evidence,
)
from jukinet.storage.access_log import append_entries
from tests.support.clock import FixedClock
from tests.support.factories import make_actor

#: The tests' "today" in Japan (TEST_NOW is 2026-11-26 12:00 JST, a Thursday).
TODAY = date(2026, 11, 26)
CODES = random_resident_codes(random.Random(20261126), 4)


def _at(day: date, hour: int, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second, micro), JST)


def _read(
    at: datetime,
    actor: str,
    *,
    subject: str | None = None,
    kind: ActorKind = ActorKind.OPERATOR,
    channel: Channel = Channel.COUNTER,
    action: Action = Action.READ,
) -> AccessEntry:
    return AccessEntry(
        recorded_at=at,
        node="municipality:132292",
        action=action,
        channel=channel,
        actor_kind=kind,
        actor=actor,
        subject=subject if subject is not None else CODES[3],
        items=("record",),
    )


def _write(node: ServiceContext, entries: Iterable[AccessEntry]) -> None:
    # The log must be appended in time order, as the gateways do.
    ordered = sorted(entries, key=lambda e: e.recorded_at)
    with node.uow() as uow:
        append_entries(uow.session, ordered)
        uow.commit()


def _many(
    at: datetime,
    actor: str,
    count: int,
    *,
    subject: str | None = None,
    kind: ActorKind = ActorKind.OPERATOR,
    action: Action = Action.READ,
) -> list[AccessEntry]:
    """``count`` reads by ``actor`` a second apart from ``at``."""
    return [
        _read(at + timedelta(seconds=i), actor, subject=subject, kind=kind, action=action)
        for i in range(count)
    ]


def _of(signals: list[Signal], kind: SignalKind) -> list[Signal]:
    return [s for s in signals if s.kind is kind]


@pytest.fixture
def officer(node: ServiceContext) -> Actor:
    return make_actor(node, Role.SECURITY_OFFICER, username="sec1")


# --------------------------------------------------------------------------------------------
# VOLUME
# --------------------------------------------------------------------------------------------


def test_volume_fires_above_three_times_the_norm_and_not_at_the_limit(
    node: ServiceContext, officer: Actor
) -> None:
    entries: list[AccessEntry] = []
    for offset in range(1, 29):
        day = TODAY - timedelta(days=offset)
        entries += _many(_at(day, 10), "heavy", 10)
        entries += _many(_at(day, 11), "steady", 10)
    # limit = max(3 × median 10, floor 50) = 50: 60 is over it, 50 is not.
    entries += _many(_at(TODAY, 9), "heavy", 60, action=Action.CANDIDATE)
    entries += _many(_at(TODAY, 10), "steady", 50)
    # Other nodes and the system are not judged for volume, however much they read.
    entries += _many(_at(TODAY, 11), "municipality:131016", 200, kind=ActorKind.NODE)
    _write(node, entries)

    volume = _of(alerts(node, actor=officer, day=TODAY), SignalKind.VOLUME)

    assert [(s.actor, s.count, s.baseline) for s in volume] == [("heavy", 60, 10.0)]
    signal = volume[0]
    assert signal.severity is Severity.NOTICE  # ratio 60 / max(10, 50/3) = 3.6
    assert signal.day == TODAY
    assert signal.evidence["actor_kind"] == "operator"
    assert signal.evidence["history_active_days"] == 28
    assert signal.evidence["limit"] == 50.0
    assert signal.evidence["peer_actors"] == 2


def _established(days: int = 40) -> list[AccessEntry]:
    """One read long ago: the node's log has its baseline (new actors' volume is judged)."""
    return _many(_at(TODAY - timedelta(days=days), 10), "archive", 1)


def test_volume_of_a_new_agency_fires_only_above_the_floor(
    node: ServiceContext, officer: Actor
) -> None:
    entries = [
        *_established(),
        *_many(_at(TODAY, 9), "pension:nenkin", 51, kind=ActorKind.RECIPIENT),
        *_many(_at(TODAY, 9), "tax:kokuzei", 50, kind=ActorKind.RECIPIENT),
    ]
    _write(node, entries)

    volume = _of(alerts(node, actor=officer, day=TODAY), SignalKind.VOLUME)

    assert [(s.actor, s.count) for s in volume] == [("pension:nenkin", 51)]
    assert volume[0].evidence["new_actor"] is True
    assert volume[0].evidence["actor_kind"] == "recipient"


def test_volume_counts_by_japan_day_not_utc_day(node: ServiceContext, officer: Actor) -> None:
    yesterday = TODAY - timedelta(days=1)
    # The last microsecond of yesterday in Japan, and the first instant of today (15:00 UTC).
    last_of_yesterday = _at(yesterday, 23, 59, 59, 999_999) - timedelta(seconds=50)
    late = _many(last_of_yesterday, "late", 51)
    early = _many(_at(TODAY, 0), "early", 51)
    assert late[-1].recorded_at == datetime(2026, 11, 25, 14, 59, 59, 999_999, tzinfo=UTC)
    assert early[0].recorded_at == datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    entries = [*_established(), *late, *early]
    _write(node, entries)

    today = _of(alerts(node, actor=officer, day=TODAY), SignalKind.VOLUME)
    before = _of(alerts(node, actor=officer, day=yesterday), SignalKind.VOLUME)

    assert [(s.actor, s.count) for s in today] == [("early", 51)]
    assert [(s.actor, s.count) for s in before] == [("late", 51)]


def test_reads_outside_the_history_and_non_reads_are_not_counted(
    node: ServiceContext, officer: Actor
) -> None:
    entries = [
        # 29 days back is outside the 28-day history, so "busy" is new today and judged by
        # the floor alone; written and refused entries are not reads at all.
        *_many(_at(TODAY - timedelta(days=29), 10), "busy", 30),
        *_many(_at(TODAY, 10), "busy", 51),
        *_many(_at(TODAY, 11), "writer", 80, action=Action.WRITE),
        *_many(_at(TODAY, 12), "refused", 80, action=Action.REFUSED),
    ]
    _write(node, entries)

    volume = _of(alerts(node, actor=officer, day=TODAY), SignalKind.VOLUME)

    assert [(s.actor, s.evidence["new_actor"]) for s in volume] == [("busy", True)]


# --------------------------------------------------------------------------------------------
# MANY_READERS
# --------------------------------------------------------------------------------------------


def test_many_readers_fires_at_five_distinct_operators_in_seven_days(
    node: ServiceContext, officer: Actor
) -> None:
    five, four, spread = CODES[0], CODES[1], CODES[2]
    first_day = TODAY - timedelta(days=6)
    entries: list[AccessEntry] = []
    for i in range(5):
        entries.append(_read(_at(first_day + timedelta(days=i), 10, i), f"clerk{i}", subject=five))
    for i in range(4):
        # Reading again and again does not make one operator several readers.
        entries += _many(_at(TODAY, 10, i), f"clerk{i}", 3, subject=four)
    # Agencies and batch rows do not count towards "many readers".
    entries.append(_read(_at(TODAY, 11), "pension:nenkin", subject=four, kind=ActorKind.RECIPIENT))
    entries.append(_read(_at(TODAY, 11, 1), "clerk9", subject=four, channel=Channel.BATCH))
    # The fifth reader of this one read eight days ago: outside the window.
    entries.append(_read(_at(first_day - timedelta(days=1), 10), "clerk4", subject=spread))
    for i in range(4):
        entries.append(_read(_at(TODAY, 13, i), f"clerk{i}", subject=spread))
    _write(node, entries)

    many = _of(alerts(node, actor=officer, day=TODAY), SignalKind.MANY_READERS)

    assert [(s.subject, s.count) for s in many] == [(five, 5)]
    signal = many[0]
    assert signal.severity is Severity.NOTICE
    assert signal.evidence["readers"] == ("clerk0", "clerk1", "clerk2", "clerk3", "clerk4")
    assert signal.evidence["first_read"] == _at(first_day, 10, 0)
    assert signal.evidence["last_read"] == _at(first_day + timedelta(days=4), 10, 4)
    # The summaries show the code masked; the full code is only in subject and evidence.
    assert five not in signal.summary_ja
    assert mask_resident_code(five) in signal.summary_ja
    assert mask_resident_code(five) in signal.summary_en


def test_many_readers_threshold_follows_the_configuration(
    node: ServiceContext, officer: Actor
) -> None:
    code = CODES[0]
    _write(node, [_read(_at(TODAY, 10, i), f"clerk{i}", subject=code) for i in range(3)])

    default = alerts(node, actor=officer, day=TODAY)
    lowered = alerts(node, actor=officer, day=TODAY, thresholds=SignalThresholds(many_readers=3))

    assert _of(default, SignalKind.MANY_READERS) == []
    assert [(s.subject, s.count) for s in _of(lowered, SignalKind.MANY_READERS)] == [(code, 3)]


# --------------------------------------------------------------------------------------------
# OFF_HOURS
# --------------------------------------------------------------------------------------------


def test_off_hours_on_a_weekday_at_the_edges_of_business_hours(
    node: ServiceContext, officer: Actor
) -> None:
    wednesday = TODAY - timedelta(days=1)
    entries = [
        _read(_at(wednesday, 22), "night"),
        _read(_at(wednesday, 8, 29, 59), "early"),
        _read(_at(wednesday, 8, 30), "opening"),
        _read(_at(wednesday, 17, 29, 59, 999_999), "closing"),
        _read(_at(wednesday, 17, 30), "after"),
        # Scheduled batch jobs run at night by design; other nodes are not staff.
        _read(_at(wednesday, 23), "night-batch", channel=Channel.BATCH, kind=ActorKind.RECIPIENT),
        _read(_at(wednesday, 23), "municipality:131016", kind=ActorKind.NODE),
    ]
    _write(node, entries)

    off = _of(alerts(node, actor=officer, day=wednesday), SignalKind.OFF_HOURS)

    assert sorted(s.actor or "" for s in off) == ["after", "early", "night"]
    night = next(s for s in off if s.actor == "night")
    assert night.day == wednesday
    assert night.count == 1
    assert night.severity is Severity.NOTICE
    assert night.evidence["day_type"] == "workday"
    assert night.evidence["first_read"] == _at(wednesday, 22)
    # Another day's alert list does not report Wednesday's night reads.
    assert _of(alerts(node, actor=officer, day=TODAY), SignalKind.OFF_HOURS) == []


def test_off_hours_on_a_sunday_and_a_holiday(node: ServiceContext, officer: Actor) -> None:
    sunday = date(2026, 11, 22)
    labour_thanksgiving = date(2026, 11, 23)  # 勤労感謝の日, a Monday
    entries = [
        *_many(_at(sunday, 10), "weekend", 12),
        _read(_at(labour_thanksgiving, 10), "holiday"),
    ]
    _write(node, entries)
    hours = BusinessHours(holidays=frozenset({labour_thanksgiving}))

    on_sunday = _of(alerts(node, actor=officer, day=sunday, hours=hours), SignalKind.OFF_HOURS)
    on_holiday = alerts(node, actor=officer, day=labour_thanksgiving, hours=hours)
    plain_monday = alerts(node, actor=officer, day=labour_thanksgiving)

    assert [(s.actor, s.count, s.severity) for s in on_sunday] == [
        ("weekend", 12, Severity.WARNING)
    ]
    assert on_sunday[0].evidence["day_type"] == "non_workday"
    assert [s.actor for s in _of(on_holiday, SignalKind.OFF_HOURS)] == ["holiday"]
    assert _of(plain_monday, SignalKind.OFF_HOURS) == []


# --------------------------------------------------------------------------------------------
# Who may look, which day, and the whole list
# --------------------------------------------------------------------------------------------


def test_a_clerk_is_refused_and_a_supervisor_may_look(node: ServiceContext) -> None:
    _write(node, [_read(_at(TODAY, 22), "night")])
    clerk = make_actor(node, Role.CLERK, username="clerk1")
    supervisor = make_actor(node, Role.SUPERVISOR, username="super1")

    with pytest.raises(PermissionDenied):
        alerts(node, actor=clerk)

    assert [s.actor for s in alerts(node, actor=supervisor)] == ["night"]


def test_day_defaults_to_today_in_japan_and_must_be_within_retention(
    node: ServiceContext, officer: Actor
) -> None:
    _write(node, [_read(_at(TODAY, 7), "dawn")])

    assert [(s.actor, s.day) for s in alerts(node, actor=officer)] == [("dawn", TODAY)]
    for bad in (TODAY + timedelta(days=1), date(2019, 11, 25), date(1, 1, 1)):
        with pytest.raises(AlertDayOutOfRange) as raised:
            alerts(node, actor=officer, day=bad)
        assert raised.value.field == "day"
    assert alerts(node, actor=officer, day=date(2019, 11, 26)) == []


def test_the_list_is_sorted_by_severity(node: ServiceContext, officer: Actor) -> None:
    entries = [
        *_established(),
        *_many(_at(TODAY, 6), "dawn", 60),  # OFF_HOURS ALERT (≥ 50) and VOLUME NOTICE
        _read(_at(TODAY, 20), "evening"),  # OFF_HOURS NOTICE
    ]
    _write(node, entries)

    signals = alerts(node, actor=officer, day=TODAY)

    assert [(s.kind, s.severity, s.actor) for s in signals] == [
        (SignalKind.OFF_HOURS, Severity.ALERT, "dawn"),
        (SignalKind.VOLUME, Severity.NOTICE, "dawn"),
        (SignalKind.OFF_HOURS, Severity.NOTICE, "evening"),
    ]


# --------------------------------------------------------------------------------------------
# CSV (no database needed)
# --------------------------------------------------------------------------------------------


def _many_readers_signal(code: str) -> Signal:
    return Signal(
        kind=SignalKind.MANY_READERS,
        severity=Severity.ALERT,
        actor=None,
        subject=code,
        day=TODAY,
        count=10,
        baseline=None,
        summary_ja=f"住民票コード {mask_resident_code(code)} の記録",
        summary_en="=HYPERLINK(1)",
        evidence={"subject": code, "readers": ("a", "b")},
    )


def test_csv_masks_resident_codes_and_defuses_formulas() -> None:
    code = CODES[0]
    text = alerts_csv([_many_readers_signal(code)])

    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    row = dict(zip(CSV_COLUMNS, rows[1], strict=True))
    assert code not in text
    assert row["subject"] == mask_resident_code(code)
    assert row["severity"] == "alert"
    assert row["kind"] == "many_readers"
    assert row["day"] == "2026-11-26"
    assert row["baseline"] == ""
    assert row["summary_en"] == "'=HYPERLINK(1)"
    assert json.loads(row["evidence"]) == {"readers": ["a", "b"], "subject": "*******" + code[-4:]}
    assert text.endswith("\r\n")

    full = alerts_csv([_many_readers_signal(code)], mask_codes=False)
    assert code in full
    assert masked_evidence(_many_readers_signal(code))["subject"] == mask_resident_code(code)
    assert alerts_csv([]) == ",".join(CSV_COLUMNS) + "\r\n"


def test_new_actors_volume_is_held_while_the_node_builds_its_baseline(
    node: ServiceContext, officer: Actor, clock: FixedClock
) -> None:
    # A node whose log began two days ago: everyone is new, so new-actor volume says nothing.
    entries = [
        *_many(_at(TODAY - timedelta(days=2), 10), "first-day", 5),
        *_many(_at(TODAY, 9), "pension:nenkin", 80, kind=ActorKind.RECIPIENT),
    ]
    _write(node, entries)
    assert baseline_start(node) == TODAY - timedelta(days=2) + timedelta(days=BASELINE_DAYS)
    assert _of(alerts(node, actor=officer, day=TODAY), SignalKind.VOLUME) == []
    # Once the log is BASELINE_DAYS old, the same reads are judged.
    later = TODAY + timedelta(days=BASELINE_DAYS)
    _write(node, _many(_at(later, 9), "tax:kokuzei", 80, kind=ActorKind.RECIPIENT))
    clock.advance(days=BASELINE_DAYS)
    volume = _of(alerts(node, actor=officer, day=later), SignalKind.VOLUME)
    assert [(s.actor, s.evidence["new_actor"]) for s in volume] == [("tax:kokuzei", True)]
