"""和暦: era table, formatting and parsing, with every era boundary checked."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jukinet.domain.errors import ValidationError
from jukinet.domain.wareki import (
    ERAS,
    Era,
    WarekiDate,
    format_wareki,
    format_wareki_short,
    parse_date,
    to_wareki,
)

MEIJI_START = date(1868, 10, 23)


def _parse_error(text: str) -> str:
    with pytest.raises(ValidationError) as exc:
        parse_date(text, field="birth_date")
    assert exc.value.field == "birth_date"
    return exc.value.code


# --- era table -------------------------------------------------------------------------------


def test_era_table() -> None:
    assert [(e.name, e.letter, e.romaji, e.start) for e in ERAS] == [
        ("明治", "M", "Meiji", date(1868, 10, 23)),
        ("大正", "T", "Taisho", date(1912, 7, 30)),
        ("昭和", "S", "Showa", date(1926, 12, 25)),
        ("平成", "H", "Heisei", date(1989, 1, 8)),
        ("令和", "R", "Reiwa", date(2019, 5, 1)),
    ]
    # Eras tile the calendar: each ends the day before the next starts.
    for era, following in itertools.pairwise(ERAS):
        assert era.end == following.start - timedelta(days=1)
    assert ERAS[-1].end is None


# --- formatting ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("d", "ja", "short", "en"),
    [
        (date(2026, 11, 26), "令和8年11月26日", "R8.11.26", "26 Nov 2026 (Reiwa 8)"),
        (date(2019, 5, 1), "令和元年5月1日", "R1.5.1", "1 May 2019 (Reiwa 1)"),
        (date(2019, 4, 30), "平成31年4月30日", "H31.4.30", "30 Apr 2019 (Heisei 31)"),
        (date(1989, 1, 7), "昭和64年1月7日", "S64.1.7", "7 Jan 1989 (Showa 64)"),
        (date(1989, 1, 8), "平成元年1月8日", "H1.1.8", "8 Jan 1989 (Heisei 1)"),
        (date(1868, 10, 23), "明治元年10月23日", "M1.10.23", "23 Oct 1868 (Meiji 1)"),
    ],
)
def test_format(d: date, ja: str, short: str, en: str) -> None:
    assert format_wareki(d) == ja
    assert format_wareki(d, lang="ja") == ja
    assert format_wareki_short(d) == short
    assert format_wareki(d, lang="en") == en


def test_to_wareki() -> None:
    w = to_wareki(date(2026, 11, 26))
    assert (w.era.name, w.year, w.month, w.day) == ("令和", 8, 11, 26)
    assert w.to_date() == date(2026, 11, 26)


def test_before_meiji_cannot_be_formatted() -> None:
    for fn in (to_wareki, format_wareki, format_wareki_short):
        with pytest.raises(ValidationError) as exc:
            fn(date(1868, 10, 22))
        assert exc.value.code == "JUKI-DATE-004"


# --- parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "令和8年11月26日",
        "令和 8 年 11 月 26 日",
        "令和８年１１月２６日",
        "\u3000令和8年11月26日 ",
        "R8.11.26",
        "r8.11.26",
        "R8/11/26",
        "R8-11-26",
        "Ｒ８．１１．２６",
        "R08.11.26",
        "令和8.11.26",
        "2026-11-26",
        "2026/11/26",
        "2026.11.26",
        "2026年11月26日",
        "２０２６－１１－２６",
        "㋿8年11月26日",  # the one-character era square
    ],
)
def test_parse_accepted_forms(text: str) -> None:
    assert parse_date(text) == date(2026, 11, 26)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("令和元年5月1日", date(2019, 5, 1)),
        ("令和1年5月1日", date(2019, 5, 1)),
        ("R元.5.1", date(2019, 5, 1)),
        ("平成31年4月30日", date(2019, 4, 30)),
        ("H31/4/30", date(2019, 4, 30)),
        ("h31/4/30", date(2019, 4, 30)),
        ("S64.1.7", date(1989, 1, 7)),
        ("昭和64年1月7日", date(1989, 1, 7)),
        ("平成元年1月8日", date(1989, 1, 8)),
        ("㍻元年1月8日", date(1989, 1, 8)),
        ("M1.10.23", date(1868, 10, 23)),
        ("2024-02-29", date(2024, 2, 29)),
    ],
)
def test_parse_examples(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "JUKI-DATE-001"),
        ("   ", "JUKI-DATE-001"),
        ("令和", "JUKI-DATE-001"),
        ("昨日", "JUKI-DATE-001"),
        ("X8.11.26", "JUKI-DATE-001"),
        ("R8.11/26", "JUKI-DATE-001"),  # mixed separators
        ("2026-11", "JUKI-DATE-001"),
        ("26/11/2026", "JUKI-DATE-001"),
        ("R8.011.26", "JUKI-DATE-001"),
        ("R" + "9" * 5000 + ".1.1", "JUKI-DATE-001"),
        ("٢٠٢٦-١١-٢٦", "JUKI-DATE-001"),  # Arabic-Indic digits
        ("平成32年1月1日", "JUKI-DATE-002"),
        ("平成31年5月1日", "JUKI-DATE-002"),
        ("令和元年4月30日", "JUKI-DATE-002"),
        ("昭和0年1月1日", "JUKI-DATE-002"),
        ("昭和64年1月8日", "JUKI-DATE-002"),
        ("S0.1.1", "JUKI-DATE-002"),
        ("令和9999年1月1日", "JUKI-DATE-002"),
        ("令和8年2月30日", "JUKI-DATE-003"),
        ("令和8年13月1日", "JUKI-DATE-003"),
        ("令和8年0月1日", "JUKI-DATE-003"),
        ("令和8年1月0日", "JUKI-DATE-003"),
        ("2026-02-29", "JUKI-DATE-003"),
        ("2026-13-01", "JUKI-DATE-003"),
        ("1868-10-22", "JUKI-DATE-004"),
        ("1800年1月1日", "JUKI-DATE-004"),
        ("0000-01-01", "JUKI-DATE-004"),
        ("明治元年1月1日", "JUKI-DATE-004"),
    ],
)
def test_parse_errors(text: str, code: str) -> None:
    assert _parse_error(text) == code


def test_parse_errors_never_contain_the_value() -> None:
    with pytest.raises(ValidationError) as exc:
        parse_date("1971年13月4日", field="birth_date")
    err = exc.value
    for text in (err.message_ja, err.message_en, str(err)):
        assert "1971" not in text
        assert "13" not in text
    assert "生年月日" in err.message_ja
    assert "birth_date" in err.message_en


# --- era boundaries --------------------------------------------------------------------------

_BOUNDARIES = list(itertools.pairwise(ERAS))


@pytest.mark.parametrize(
    ("before", "after"), _BOUNDARIES, ids=[f"{a.romaji}-{b.romaji}" for a, b in _BOUNDARIES]
)
def test_every_era_boundary(before: Era, after: Era) -> None:
    last = after.start - timedelta(days=1)
    first = after.start
    last_year = last.year - before.start.year + 1

    # The last day of the old era and the first day of the new one, in both written forms.
    assert to_wareki(last) == WarekiDate(before, last_year, last.month, last.day)
    assert to_wareki(first) == WarekiDate(after, 1, first.month, first.day)
    assert format_wareki(last) == f"{before.name}{last_year}年{last.month}月{last.day}日"
    assert format_wareki(first) == f"{after.name}元年{first.month}月{first.day}日"
    assert format_wareki_short(last) == f"{before.letter}{last_year}.{last.month}.{last.day}"
    assert format_wareki_short(first) == f"{after.letter}1.{first.month}.{first.day}"
    for text in (format_wareki(last), format_wareki_short(last)):
        assert parse_date(text) == last
    for text in (format_wareki(first), format_wareki_short(first)):
        assert parse_date(text) == first

    # The invalid neighbours: the old era one day too long, the new era one day too early.
    # (The new era's start date written in the old era's year, and vice versa.)
    assert _parse_error(f"{before.name}{last_year}年{first.month}月{first.day}日") == (
        "JUKI-DATE-002"
    )
    assert _parse_error(f"{before.letter}{last_year}.{first.month}.{first.day}") == (
        "JUKI-DATE-002"
    )
    assert _parse_error(f"{after.name}元年{last.month}月{last.day}日") == "JUKI-DATE-002"
    assert _parse_error(f"{after.letter}1.{last.month}.{last.day}") == "JUKI-DATE-002"
    # And the year after the old era's last year does not exist in the old era.
    assert _parse_error(f"{before.name}{last_year + 1}年1月1日") == "JUKI-DATE-002"


def test_meiji_start_boundary() -> None:
    assert format_wareki(MEIJI_START) == "明治元年10月23日"
    assert parse_date("明治元年10月23日") == MEIJI_START
    assert parse_date("1868-10-23") == MEIJI_START
    assert _parse_error("明治元年10月22日") == "JUKI-DATE-004"
    assert _parse_error("M1.10.22") == "JUKI-DATE-004"
    assert _parse_error("1868-10-22") == "JUKI-DATE-004"


def test_warekidate_to_date_validates() -> None:
    reiwa = ERAS[-1]
    assert WarekiDate(reiwa, 8, 11, 26).to_date() == date(2026, 11, 26)
    with pytest.raises(ValidationError) as exc:
        WarekiDate(reiwa, 1, 4, 30).to_date(field="birth_date")
    assert exc.value.code == "JUKI-DATE-002"
    assert exc.value.field == "birth_date"


# --- round trips -----------------------------------------------------------------------------

_LAST = date(2100, 12, 31)


@given(st.dates(min_value=MEIJI_START, max_value=_LAST))
def test_round_trip_long_form(d: date) -> None:
    assert parse_date(format_wareki(d)) == d


@given(st.dates(min_value=MEIJI_START, max_value=_LAST))
def test_round_trip_short_form(d: date) -> None:
    assert parse_date(format_wareki_short(d)) == d


def test_round_trip_every_single_day() -> None:
    # ~85,000 days; cheap enough to check them all rather than trust sampling.
    d = MEIJI_START
    while d <= _LAST:
        assert parse_date(format_wareki(d)) == d, d
        assert parse_date(format_wareki_short(d)) == d, d
        d += timedelta(days=1)


def test_a_date_before_an_eras_first_day_says_so() -> None:
    with pytest.raises(ValidationError) as before:
        parse_date("令和元年4月30日", field="birth_date")
    assert "precedes the Reiwa era, which began on 2019-05-01" in before.value.message_en
    assert "令和が始まる前の日付" in before.value.message_ja
    with pytest.raises(ValidationError) as after:
        parse_date("平成31年5月1日", field="birth_date")
    assert "after the Heisei era, which ended on 2019-04-30" in after.value.message_en
    assert before.value.code == after.value.code == "JUKI-DATE-002"
