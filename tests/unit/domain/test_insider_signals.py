"""Insider-misuse signals: VOLUME, MANY_READERS and OFF_HOURS rules, severities and ordering."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jukinet.domain.errors import ValidationError
from jukinet.domain.insider_signals import (
    JST,
    BusinessHours,
    DailyCount,
    InsiderSignalError,
    InvalidBusinessHours,
    InvalidSignalInput,
    InvalidThreshold,
    NaiveTimestamp,
    OffHoursRead,
    ReadsOutsideWindow,
    Severity,
    Signal,
    SignalKind,
    SignalThresholds,
    SubjectReaders,
    all_signals,
    many_reader_signals,
    off_hours_signals,
    signal_sort_key,
    volume_signals,
)

DAY = date(2026, 11, 27)  # a Friday
SUBJECT = "12345678901"
OTHER_SUBJECT = "98765432109"


def history(
    actor: str,
    per_day: Sequence[int],
    *,
    today: int | None = None,
    kind: str = "operator",
    day: date = DAY,
) -> list[DailyCount]:
    """``per_day[0]`` is the day before ``day``, ``per_day[1]`` two days before, and so on."""
    rows = [DailyCount(actor, kind, day - timedelta(days=i + 1), n) for i, n in enumerate(per_day)]
    if today is not None:
        rows.append(DailyCount(actor, kind, day, today))
    return rows


def jst(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), JST)


def readers(n: int, *, subject: str = SUBJECT, day: date = DAY) -> SubjectReaders:
    return SubjectReaders(
        subject=subject,
        readers=tuple(f"OP-{i:03d}" for i in range(n)),
        first_read=jst(day - timedelta(days=2), 9),
        last_read=jst(day, 16),
    )


# --- errors and configuration ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("volume_multiplier", 0),
        ("volume_multiplier", -1.5),
        ("volume_multiplier", float("nan")),
        ("volume_multiplier", float("inf")),
        ("volume_multiplier", True),
        ("volume_floor", 0),
        ("volume_floor", -50),
        ("volume_floor", 2.5),
        ("history_days", 0),
        ("history_days", True),
        ("many_readers", 0),
        ("many_readers", -5),
        ("many_readers_window_days", 0),
    ],
)
def test_thresholds_must_be_positive(field: str, value: object) -> None:
    with pytest.raises(InvalidThreshold) as caught:
        SignalThresholds(**{field: value})  # type: ignore[arg-type]
    error = caught.value
    assert error.code == "JUKI-SIG-001"
    assert error.field == field
    assert isinstance(error, ValidationError)
    assert isinstance(error, ValueError)
    assert error.message_ja.startswith(field)
    assert error.message_en.startswith(field)
    assert error.message("en") != error.message("ja")


def test_default_thresholds() -> None:
    t = SignalThresholds()
    assert (t.volume_multiplier, t.volume_floor, t.history_days) == (3.0, 50, 28)
    assert (t.many_readers, t.many_readers_window_days) == (5, 7)
    assert SignalThresholds(volume_multiplier=2).volume_multiplier == 2


def test_error_codes_are_distinct_and_in_the_sig_family() -> None:
    classes: list[type[InsiderSignalError]] = [
        InvalidThreshold,
        NaiveTimestamp,
        InvalidBusinessHours,
        InvalidSignalInput,
        ReadsOutsideWindow,
    ]
    codes = [cls.CODE for cls in classes]
    assert len(set(codes)) == len(codes)
    assert all(code.startswith("JUKI-SIG-0") for code in codes)
    assert all(issubclass(cls, InsiderSignalError) for cls in classes)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"start": time(17, 30), "end": time(8, 30)},
        {"start": time(9), "end": time(9)},
        {"start": time(9, tzinfo=UTC)},
        {"workdays": frozenset({7})},
        {"workdays": frozenset({-1})},
        {"workdays": frozenset()},
        {"holidays": frozenset({datetime(2026, 11, 23, tzinfo=JST)})},
    ],
)
def test_business_hours_are_validated(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidBusinessHours) as caught:
        BusinessHours(**kwargs)  # type: ignore[arg-type]
    assert caught.value.code == "JUKI-SIG-003"


def test_business_hours_freeze_sets() -> None:
    hours = BusinessHours(holidays={date(2026, 11, 23)}, workdays={0, 1})  # type: ignore[arg-type]
    assert isinstance(hours.holidays, frozenset)
    assert isinstance(hours.workdays, frozenset)
    hash(hours)


@pytest.mark.parametrize(
    "make",
    [
        lambda: DailyCount("OP-1", "operator", DAY, -1),
        lambda: DailyCount("OP-1", "operator", DAY, True),
        lambda: DailyCount("", "operator", DAY, 1),
        lambda: DailyCount("OP-1", " ", DAY, 1),
        lambda: DailyCount("OP-1", "operator", datetime(2026, 11, 27, tzinfo=JST), 1),
        lambda: SubjectReaders(SUBJECT, (), jst(DAY, 9), jst(DAY, 10)),
        lambda: SubjectReaders(SUBJECT, ("OP-1", ""), jst(DAY, 9), jst(DAY, 10)),
        lambda: SubjectReaders(SUBJECT, ("OP-1",), jst(DAY, 11), jst(DAY, 10)),
        lambda: SubjectReaders("", ("OP-1",), jst(DAY, 9), jst(DAY, 10)),
        lambda: OffHoursRead("", "operator", jst(DAY, 20)),
    ],
)
def test_malformed_inputs_are_refused(make: object) -> None:
    with pytest.raises(InvalidSignalInput) as caught:
        make()  # type: ignore[operator]
    assert caught.value.code == "JUKI-SIG-004"


def test_error_messages_do_not_echo_values() -> None:
    with pytest.raises(InvalidSignalInput) as caught:
        DailyCount("OP-SECRET-77", "operator", DAY, -123)
    for message in (caught.value.message_ja, caught.value.message_en):
        assert "-123" not in message
        assert "OP-SECRET-77" not in message


@pytest.mark.parametrize(
    "make",
    [
        lambda: SubjectReaders(SUBJECT, ("OP-1",), datetime(2026, 11, 27, 9), jst(DAY, 10)),
        lambda: SubjectReaders(SUBJECT, ("OP-1",), jst(DAY, 9), datetime(2026, 11, 27, 10)),
        lambda: OffHoursRead("OP-1", "operator", datetime(2026, 11, 27, 20)),
        lambda: BusinessHours().contains(datetime(2026, 11, 27, 10)),
    ],
)
def test_naive_datetimes_are_refused(make: object) -> None:
    with pytest.raises(NaiveTimestamp) as caught:
        make()  # type: ignore[operator]
    assert caught.value.code == "JUKI-SIG-002"
    assert isinstance(caught.value, ValueError)


# --- BusinessHours --------------------------------------------------------------------------


def test_utc_evening_is_friday_morning_in_japan() -> None:
    hours = BusinessHours()
    assert hours.contains(datetime(2026, 11, 26, 23, 30, tzinfo=UTC))  # Fri 08:30 JST
    assert not hours.contains(datetime(2026, 11, 26, 23, 29, 59, tzinfo=UTC))  # 08:29:59


@pytest.mark.parametrize(
    ("moment", "inside"),
    [
        (jst(DAY, 8, 29, 59), False),
        (jst(DAY, 8, 30), True),
        (jst(DAY, 12), True),
        (jst(DAY, 17, 29, 59), True),
        (jst(DAY, 17, 30), False),
        (jst(DAY, 23), False),
        (jst(DAY, 3), False),
        (jst(date(2026, 11, 28), 10), False),  # Saturday
        (jst(date(2026, 11, 29), 10), False),  # Sunday
        (jst(date(2026, 11, 30), 10), True),  # Monday
        # 10:00 JST Friday seen from New York (UTC-5): 20:00 Thursday there.
        (datetime(2026, 11, 26, 20, tzinfo=timezone(timedelta(hours=-5))), True),
        # Saturday 00:30 JST is still Friday 15:30 UTC.
        (datetime(2026, 11, 27, 15, 30, tzinfo=UTC), False),
    ],
)
def test_business_hours_boundaries(moment: datetime, inside: bool) -> None:
    assert BusinessHours().contains(moment) is inside


def test_holiday_is_off_hours_all_day() -> None:
    labour_thanksgiving = date(2026, 11, 23)  # a Monday
    noon = jst(labour_thanksgiving, 12)
    assert BusinessHours().contains(noon)
    with_holiday = BusinessHours(holidays=frozenset({labour_thanksgiving}))
    assert not with_holiday.contains(noon)
    assert with_holiday.day_type(labour_thanksgiving) == "holiday"
    assert with_holiday.day_type(date(2026, 11, 28)) == "non_workday"
    assert with_holiday.day_type(DAY) == "workday"


def test_custom_workdays_and_hours() -> None:
    hours = BusinessHours(start=time(9), end=time(12), workdays=frozenset({5}))
    assert hours.contains(jst(date(2026, 11, 28), 9))  # Saturday office
    assert not hours.contains(jst(DAY, 10))  # Friday is not a workday here
    assert not hours.contains(jst(date(2026, 11, 28), 12))


# --- VOLUME ---------------------------------------------------------------------------------


def test_new_actor_alerts_only_above_the_floor() -> None:
    assert volume_signals([DailyCount("OP-NEW", "operator", DAY, 50)], day=DAY) == []
    [signal] = volume_signals([DailyCount("OP-NEW", "operator", DAY, 51)], day=DAY)
    assert signal.kind is SignalKind.VOLUME
    assert signal.actor == "OP-NEW"
    assert signal.subject is None
    assert signal.count == 51
    assert signal.baseline == 0.0
    assert signal.evidence["new_actor"] is True
    assert signal.evidence["limit"] == 50.0
    assert signal.severity is Severity.NOTICE
    assert "新規" in signal.summary_ja
    assert "new actor" in signal.summary_en


def test_volume_fires_above_multiplier_times_median_not_at_it() -> None:
    past = [20] * 28  # median 20, limit max(60, 50) = 60
    assert volume_signals(history("OP-1", past, today=60), day=DAY) == []
    [signal] = volume_signals(history("OP-1", past, today=61), day=DAY)
    assert signal.baseline == 20.0
    assert signal.evidence["limit"] == 60.0
    assert signal.evidence["new_actor"] is False
    assert signal.evidence["ratio_to_median"] == 3.05


def test_floor_applies_when_multiple_of_median_is_below_it() -> None:
    past = [10] * 28  # 3 x 10 = 30 < floor 50
    assert volume_signals(history("OP-1", past, today=50), day=DAY) == []
    assert len(volume_signals(history("OP-1", past, today=51), day=DAY)) == 1


def test_days_without_reads_count_as_zero_in_the_median() -> None:
    # Reads of 100 on 13 of the 28 days: the median over 28 days is 0, not 100.
    rows = [DailyCount("OP-1", "operator", DAY - timedelta(days=2 * i + 1), 100) for i in range(13)]
    rows.append(DailyCount("OP-1", "operator", DAY, 60))
    [signal] = volume_signals(rows, day=DAY)
    assert signal.baseline == 0.0
    assert signal.evidence["history_active_days"] == 13
    assert signal.evidence["new_actor"] is False

    # 14 days of 100 and 14 missing days: median (0 + 100) / 2 = 50, limit 150.
    past = [100] * 14
    assert volume_signals(history("OP-1", past, today=150), day=DAY) == []
    [signal] = volume_signals(history("OP-1", past, today=151), day=DAY)
    assert signal.baseline == 50.0


def test_rows_outside_the_history_are_ignored() -> None:
    rows = history("OP-1", [], today=121)
    rows += [
        DailyCount("OP-1", "operator", DAY - timedelta(days=29), 1000),  # too old
        DailyCount("OP-1", "operator", DAY + timedelta(days=1), 1000),  # future
    ]
    rows += history("OP-1", [40] * 27)  # 27 days of 40 + one missing day: median 40
    [signal] = volume_signals(rows, day=DAY)
    assert signal.baseline == 40.0
    assert signal.count == 121
    assert signal.evidence["history_active_days"] == 27
    # With a shorter history the old busy days drop out entirely.
    short = SignalThresholds(history_days=3)
    assert volume_signals(history("OP-1", [0, 0, 0, 500], today=51), day=DAY, thresholds=short)


def test_duplicate_rows_for_one_day_are_added() -> None:
    rows = [DailyCount("OP-1", "operator", DAY, 30), DailyCount("OP-1", "operator", DAY, 21)]
    [signal] = volume_signals(rows, day=DAY)
    assert signal.count == 51


def test_actor_without_reads_today_is_not_judged() -> None:
    assert volume_signals(history("OP-1", [500] * 28), day=DAY) == []


def test_actor_kinds_are_kept_apart() -> None:
    rows = history("X-1", [100] * 28, kind="agency")
    rows.append(DailyCount("X-1", "operator", DAY, 60))  # same id, other kind: a new actor
    [signal] = volume_signals(rows, day=DAY)
    assert signal.evidence["actor_kind"] == "operator"
    assert signal.evidence["new_actor"] is True


@pytest.mark.parametrize(
    ("today", "severity"),
    [
        (61, Severity.NOTICE),
        (99, Severity.NOTICE),  # ratio 4.95
        (100, Severity.WARNING),  # ratio 5
        (199, Severity.WARNING),
        (200, Severity.ALERT),  # ratio 10
        (5000, Severity.ALERT),
    ],
)
def test_volume_severity_from_ratio_to_median(today: int, severity: Severity) -> None:
    [signal] = volume_signals(history("OP-1", [20] * 28, today=today), day=DAY)
    assert signal.severity is severity


@pytest.mark.parametrize(
    ("today", "severity"),
    [(51, Severity.NOTICE), (84, Severity.WARNING), (166, Severity.WARNING), (167, Severity.ALERT)],
)
def test_volume_severity_for_new_actor_uses_floor_over_multiplier(
    today: int, severity: Severity
) -> None:
    # Effective baseline max(0, 50 / 3) = 16.67: ratio 5 at 83.3, ratio 10 at 166.7.
    [signal] = volume_signals([DailyCount("OP-NEW", "operator", DAY, today)], day=DAY)
    assert signal.severity is severity


def test_peer_median_is_evidence_not_a_signal() -> None:
    rows = [
        *history("OP-A", [10] * 28, today=10),
        *history("OP-B", [20] * 28, today=20),
        *history("OP-C", [20] * 28, today=200),
        *history("AG-1", [1000] * 28, today=1000, kind="agency"),
        *history("OP-D", [20] * 28),  # not active today: not a peer
    ]
    [signal] = volume_signals(rows, day=DAY)
    assert signal.actor == "OP-C"
    assert signal.evidence["peer_actors"] == 3
    assert signal.evidence["peer_median"] == 20.0
    assert signal.evidence["peer_ratio"] == 10.0
    assert "3" in signal.summary_en

    [bare] = volume_signals(rows, day=DAY, compare_peers=False)
    assert "peer_median" not in bare.evidence


def test_volume_summaries_hold_no_personal_data() -> None:
    [signal] = volume_signals(history("OP-1", [20] * 28, today=200), day=DAY)
    for text in (signal.summary_ja, signal.summary_en):
        assert "OP-1" in text
        assert "200" in text
        assert "2026-11-27" in text
    assert "Operator OP-1" in signal.summary_en
    assert "操作者 OP-1" in signal.summary_ja


def test_volume_day_must_be_a_date() -> None:
    with pytest.raises(InvalidSignalInput):
        volume_signals([], day=datetime(2026, 11, 27, tzinfo=JST))


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["OP-1", "OP-2", "AG-1"]),
            st.sampled_from(["operator", "agency"]),
            st.integers(min_value=-40, max_value=5),
            st.integers(min_value=0, max_value=10**9),
        ),
        max_size=80,
    ),
    multiplier=st.floats(min_value=0.01, max_value=1000, allow_nan=False),
    floor=st.integers(min_value=1, max_value=10**6),
    history_days=st.integers(min_value=1, max_value=60),
    compare_peers=st.booleans(),
)
def test_volume_never_raises_for_non_negative_counts(
    rows: list[tuple[str, str, int, int]],
    multiplier: float,
    floor: int,
    history_days: int,
    compare_peers: bool,
) -> None:
    thresholds = SignalThresholds(
        volume_multiplier=multiplier, volume_floor=floor, history_days=history_days
    )
    counts = [DailyCount(a, k, DAY + timedelta(days=d), n) for a, k, d, n in rows]
    signals = volume_signals(counts, day=DAY, thresholds=thresholds, compare_peers=compare_peers)
    assert len({(s.evidence["actor_kind"], s.actor) for s in signals}) == len(signals)
    for signal in signals:
        assert signal.count > floor
        assert signal.count > float(signal.evidence["limit"])  # type: ignore[arg-type]
        json.dumps(signal.as_dict())


@settings(max_examples=200, deadline=None)
@given(
    data=st.data(),
    floor=st.integers(min_value=1, max_value=1000),
    multiplier=st.floats(min_value=0.01, max_value=100, allow_nan=False),
    history_days=st.integers(min_value=1, max_value=60),
)
def test_equal_counts_below_the_floor_never_alert(
    data: st.DataObject, floor: int, multiplier: float, history_days: int
) -> None:
    count = data.draw(st.integers(min_value=0, max_value=floor - 1))
    thresholds = SignalThresholds(
        volume_multiplier=multiplier, volume_floor=floor, history_days=history_days
    )
    rows = history("OP-1", [count] * (history_days + 5), today=count)
    assert volume_signals(rows, day=DAY, thresholds=thresholds) == []


# --- MANY_READERS ---------------------------------------------------------------------------


def test_many_readers_fires_at_threshold_not_below() -> None:
    assert many_reader_signals([readers(4)], day=DAY) == []
    [signal] = many_reader_signals([readers(5)], day=DAY)
    assert signal.kind is SignalKind.MANY_READERS
    assert signal.subject == SUBJECT
    assert signal.actor is None
    assert signal.count == 5
    assert signal.baseline is None
    assert signal.day == DAY
    assert signal.evidence["readers"] == ("OP-000", "OP-001", "OP-002", "OP-003", "OP-004")
    assert signal.evidence["window_start"] == date(2026, 11, 21)


@pytest.mark.parametrize(
    ("n", "severity"),
    [
        (5, Severity.NOTICE),
        (7, Severity.NOTICE),
        (8, Severity.WARNING),
        (9, Severity.WARNING),
        (10, Severity.ALERT),
        (40, Severity.ALERT),
    ],
)
def test_many_readers_severity(n: int, severity: Severity) -> None:
    [signal] = many_reader_signals([readers(n)], day=DAY)
    assert signal.severity is severity


def test_many_readers_thresholds_are_parameters() -> None:
    t = SignalThresholds(many_readers=3, many_readers_window_days=3)
    assert many_reader_signals([readers(2)], day=DAY, thresholds=t) == []
    severities = [
        many_reader_signals([readers(n)], day=DAY, thresholds=t)[0].severity for n in (3, 4, 5, 6)
    ]
    assert severities == [Severity.NOTICE, Severity.NOTICE, Severity.WARNING, Severity.ALERT]


def test_many_readers_counts_distinct_actors_and_merges_rows() -> None:
    duplicated = SubjectReaders(
        SUBJECT, ("OP-1", "OP-1", "OP-2", "OP-2", "OP-3"), jst(DAY, 9), jst(DAY, 10)
    )
    assert many_reader_signals([duplicated], day=DAY) == []
    more = SubjectReaders(SUBJECT, ("OP-3", "OP-4", "OP-5"), jst(DAY, 8), jst(DAY, 11))
    [signal] = many_reader_signals([duplicated, more], day=DAY)
    assert signal.count == 5
    assert signal.evidence["first_read"] == jst(DAY, 8)
    assert signal.evidence["last_read"] == jst(DAY, 11)


def test_many_readers_window_is_in_japan_time() -> None:
    start = jst(date(2026, 11, 21), 0)  # first day of the 7-day window ending 11-27
    inside = SubjectReaders(
        SUBJECT, tuple(f"OP-{i}" for i in range(5)), start, jst(DAY, 23, 59, 59)
    )
    assert len(many_reader_signals([inside], day=DAY)) == 1
    # The same instant expressed in UTC is equally accepted.
    as_utc = dataclasses.replace(inside, first_read=start.astimezone(UTC))
    assert len(many_reader_signals([as_utc], day=DAY)) == 1

    too_early = dataclasses.replace(inside, first_read=start - timedelta(seconds=1))
    too_late = dataclasses.replace(inside, last_read=jst(DAY + timedelta(days=1), 0))
    for row in (too_early, too_late):
        with pytest.raises(ReadsOutsideWindow) as caught:
            many_reader_signals([row], day=DAY)
        assert caught.value.code == "JUKI-SIG-005"
        assert SUBJECT not in caught.value.message_en


def test_many_readers_summaries_mask_the_code() -> None:
    [signal] = many_reader_signals([readers(6)], day=DAY)
    for text in (signal.summary_ja, signal.summary_en):
        assert SUBJECT not in text
        assert "*******8901" in text
        assert "6" in text
    assert signal.as_dict()["subject"] == SUBJECT


def test_many_readers_results_are_ordered() -> None:
    signals = many_reader_signals(
        [readers(5, subject=OTHER_SUBJECT), readers(10), readers(6, subject="11111111111")], day=DAY
    )
    assert [s.subject for s in signals] == [SUBJECT, "11111111111", OTHER_SUBJECT]


# --- OFF_HOURS ------------------------------------------------------------------------------


def test_off_hours_groups_per_actor_per_japan_day() -> None:
    reads = [
        OffHoursRead("OP-1", "operator", jst(DAY, 18)),
        OffHoursRead("OP-1", "operator", jst(DAY, 7, 5)),
        OffHoursRead("OP-1", "operator", jst(DAY, 12)),  # inside hours: ignored
        OffHoursRead("OP-1", "operator", datetime(2026, 11, 27, 15, 30, tzinfo=UTC)),  # Sat 00:30
        OffHoursRead("OP-2", "operator", jst(DAY, 20)),
    ]
    signals = off_hours_signals(reads)
    assert [(s.actor, s.day, s.count) for s in signals] == [
        ("OP-1", date(2026, 11, 28), 1),
        ("OP-1", DAY, 2),
        ("OP-2", DAY, 1),
    ]
    friday = signals[1]
    assert friday.kind is SignalKind.OFF_HOURS
    assert friday.evidence["first_read"] == jst(DAY, 7, 5)
    assert friday.evidence["last_read"] == jst(DAY, 18)
    assert friday.evidence["day_type"] == "workday"
    assert "07:05" in friday.summary_ja
    assert "18:00" in friday.summary_en
    assert signals[0].evidence["day_type"] == "non_workday"


def test_off_hours_boundaries() -> None:
    at_start = OffHoursRead("OP-1", "operator", jst(DAY, 8, 30))
    at_end = OffHoursRead("OP-1", "operator", jst(DAY, 17, 30))
    before_start = OffHoursRead("OP-1", "operator", jst(DAY, 8, 29, 59))
    assert off_hours_signals([at_start]) == []
    assert len(off_hours_signals([at_end])) == 1
    assert len(off_hours_signals([before_start])) == 1


def test_off_hours_weekend_and_holiday() -> None:
    saturday_noon = OffHoursRead("OP-1", "operator", jst(date(2026, 11, 28), 12))
    [weekend] = off_hours_signals([saturday_noon])
    assert weekend.evidence["day_type"] == "non_workday"

    holiday_noon = OffHoursRead("OP-1", "operator", jst(date(2026, 11, 23), 12))
    assert off_hours_signals([holiday_noon]) == []
    hours = BusinessHours(holidays=frozenset({date(2026, 11, 23)}))
    [holiday] = off_hours_signals([holiday_noon], hours=hours)
    assert holiday.evidence["day_type"] == "holiday"
    assert "祝日" in holiday.summary_ja
    assert "public holiday" in holiday.summary_en


@pytest.mark.parametrize(
    ("n", "severity"),
    [
        (1, Severity.NOTICE),
        (9, Severity.NOTICE),
        (10, Severity.WARNING),
        (49, Severity.WARNING),
        (50, Severity.ALERT),
    ],
)
def test_off_hours_severity(n: int, severity: Severity) -> None:
    reads = [
        OffHoursRead("OP-1", "operator", jst(DAY, 19) + timedelta(seconds=i)) for i in range(n)
    ]
    [signal] = off_hours_signals(reads)
    assert signal.count == n
    assert signal.severity is severity


# --- Signal and all_signals -----------------------------------------------------------------


def make_signal(
    kind: SignalKind, severity: Severity, day: date, actor: str | None, subject: str | None = None
) -> Signal:
    return Signal(kind, severity, actor, subject, day, 1, None, "要約", "summary", {})


def test_signal_as_dict_is_json() -> None:
    [signal] = off_hours_signals([OffHoursRead("OP-1", "operator", jst(DAY, 20))])
    data = signal.as_dict()
    text = json.dumps(data, ensure_ascii=False)
    assert json.loads(text) == data
    assert data["kind"] == "off_hours"
    assert data["severity"] == "notice"
    assert data["day"] == "2026-11-27"
    evidence = data["evidence"]
    assert isinstance(evidence, dict)
    assert evidence["first_read"] == "2026-11-27T20:00:00+09:00"
    assert evidence["workdays"] == [0, 1, 2, 3, 4]


def test_signal_is_immutable_and_hashable() -> None:
    [signal] = volume_signals([DailyCount("OP-1", "operator", DAY, 60)], day=DAY)
    with pytest.raises(TypeError):
        signal.evidence["limit"] = 0  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        signal.count = 0  # type: ignore[misc]
    assert hash(signal) == hash(dataclasses.replace(signal))
    assert signal == dataclasses.replace(signal)


def test_sort_key_orders_by_severity_day_kind_actor() -> None:
    earlier = DAY - timedelta(days=1)
    expected = [
        make_signal(SignalKind.VOLUME, Severity.ALERT, earlier, "OP-9"),
        make_signal(SignalKind.VOLUME, Severity.WARNING, DAY, "OP-1"),
        make_signal(SignalKind.VOLUME, Severity.WARNING, DAY, "OP-2"),
        make_signal(SignalKind.MANY_READERS, Severity.WARNING, DAY, None, SUBJECT),
        make_signal(SignalKind.OFF_HOURS, Severity.WARNING, DAY, "OP-0"),
        make_signal(SignalKind.VOLUME, Severity.WARNING, earlier, "OP-0"),
        make_signal(SignalKind.OFF_HOURS, Severity.NOTICE, DAY, "OP-0"),
    ]
    for shift in range(len(expected)):
        shuffled = expected[shift:][::-1] + expected[:shift]
        assert sorted(shuffled, key=signal_sort_key) == expected


def test_all_signals_combines_and_sorts() -> None:
    counts = [
        *history("OP-1", [20] * 28, today=200),  # ALERT volume
        DailyCount("OP-2", "operator", DAY, 51),  # NOTICE volume (new actor)
    ]
    off = [
        OffHoursRead("OP-3", "operator", jst(DAY, 22)),  # NOTICE, Friday
        *[
            OffHoursRead(
                "OP-4", "operator", jst(DAY - timedelta(days=1), 23) + timedelta(seconds=i)
            )
            for i in range(10)
        ],  # WARNING, Thursday
    ]
    signals = all_signals(
        day=DAY,
        daily_counts=counts,
        subjects=[readers(8)],  # WARNING many readers
        off_hours_reads=off,
    )
    assert [(s.severity, s.kind, s.actor or s.subject, s.day) for s in signals] == [
        (Severity.ALERT, SignalKind.VOLUME, "OP-1", DAY),
        (Severity.WARNING, SignalKind.MANY_READERS, SUBJECT, DAY),
        (Severity.WARNING, SignalKind.OFF_HOURS, "OP-4", DAY - timedelta(days=1)),
        (Severity.NOTICE, SignalKind.VOLUME, "OP-2", DAY),
        (Severity.NOTICE, SignalKind.OFF_HOURS, "OP-3", DAY),
    ]


def test_all_signals_with_nothing_is_empty() -> None:
    assert all_signals(day=DAY) == []


def test_severity_and_kind_ranks() -> None:
    assert [s.rank for s in Severity] == [0, 1, 2]
    assert [k.order for k in SignalKind] == [0, 1, 2, 3]
    assert SignalKind("many_readers") is SignalKind.MANY_READERS


def test_operator_incidents_become_signals() -> None:
    from jukinet.domain.insider_signals.operator_events import OperatorIncident, operator_signals
    from jukinet.domain.operator_events import OperatorEvent

    cloned, locked = operator_signals(
        [
            OperatorIncident("clerk1", OperatorEvent.CARD_CLONED, date(2026, 11, 26), "K-1"),
            OperatorIncident("clerk2", OperatorEvent.LOCKED, date(2026, 11, 26), "after 5"),
        ]
    )
    assert (cloned.kind, cloned.severity, cloned.actor) == (
        SignalKind.OPERATOR_CARD,
        Severity.ALERT,
        "clerk1",
    )
    assert (locked.severity, locked.actor) == (Severity.WARNING, "clerk2")
    assert "複製" in cloned.summary_ja
    assert "locked" in locked.summary_en
