"""和暦 (Japanese era dates): our own era table, formatting and parsing.

Our own table rather than a library: Babel prints 西暦 and japanera zero-pads (令和08年), and
the rules fit on a page. Dates before 明治 6 (1873) are treated as proleptic Gregorian, which is
what every register system does in practice; no resident was born under the lunar calendar.

Errors name the field and the rule, never the value (a date of birth is personal data).
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from jukinet.domain.errors import ValidationError

__all__ = [
    "ERAS",
    "Era",
    "WarekiDate",
    "format_wareki",
    "format_wareki_short",
    "parse_date",
    "to_wareki",
]


@dataclass(frozen=True)
class Era:
    """One era: its name (令和), one-letter abbreviation (R), romaji, first and last day."""

    name: str
    letter: str
    romaji: str
    start: date
    end: date | None  # None for the current era

    def contains(self, d: date) -> bool:
        """True if ``d`` falls within this era."""
        return self.start <= d and (self.end is None or d <= self.end)


ERAS: tuple[Era, ...] = (
    Era("明治", "M", "Meiji", date(1868, 10, 23), date(1912, 7, 29)),
    Era("大正", "T", "Taisho", date(1912, 7, 30), date(1926, 12, 24)),
    Era("昭和", "S", "Showa", date(1926, 12, 25), date(1989, 1, 7)),
    Era("平成", "H", "Heisei", date(1989, 1, 8), date(2019, 4, 30)),
    Era("令和", "R", "Reiwa", date(2019, 5, 1), None),
)

#: The first day a date on the register can be written in 和暦 (明治元年10月23日): the earliest
#: date of birth the register accepts, at a municipality and at the tiers above it.
EARLIEST_DATE: date = ERAS[0].start

_BY_TOKEN: dict[str, Era] = {
    **{era.name: era for era in ERAS},
    **{era.letter: era for era in ERAS},
    **{era.letter.lower(): era for era in ERAS},
}


# Labels for the Japanese messages; other fields are named by their identifier.
_LABELS_JA: dict[str, str] = {"date": "日付", "birth_date": "生年月日"}


def _label(field: str) -> str:
    return _LABELS_JA.get(field, field)


def _out_of_era(field: str) -> ValidationError:
    return ValidationError(
        "JUKI-DATE-002",
        ja=f"{_label(field)}の年がその元号の範囲外です。",
        en=f"{field}: the year is outside the range of the era.",
        field=field,
    )


def _before_era(field: str, era: Era) -> ValidationError:
    start = era.start
    return ValidationError(
        "JUKI-DATE-002",
        ja=f"{_label(field)}は{era.name}が始まる前の日付です"
        f"（{era.name}元年は{start.month}月{start.day}日から）。",
        en=f"{field}: the date precedes the {era.romaji} era, which began on {start.isoformat()}.",
        field=field,
    )


def _after_era(field: str, era: Era) -> ValidationError:
    end = era.end
    if end is None:  # the current era has not ended: any date after its start is in it
        return _out_of_era(field)
    return ValidationError(
        "JUKI-DATE-002",
        ja=f"{_label(field)}は{era.name}が終わった後の日付です"
        f"（{era.name}は{end.year}年{end.month}月{end.day}日まで）。",
        en=f"{field}: the date is after the {era.romaji} era, which ended on {end.isoformat()}.",
        field=field,
    )


def _impossible(field: str) -> ValidationError:
    return ValidationError(
        "JUKI-DATE-003",
        ja=f"{_label(field)}は存在しない日付です（月または日が不正）。",
        en=f"{field} is not a calendar date (invalid month or day).",
        field=field,
    )


def _before_meiji(field: str) -> ValidationError:
    return ValidationError(
        "JUKI-DATE-004",
        ja=f"{_label(field)}は明治元年10月23日以降の日付を入力してください。",
        en=f"{field} must be on or after 23 Oct 1868 (the start of Meiji).",
        field=field,
    )


def _unparseable(field: str) -> ValidationError:
    return ValidationError(
        "JUKI-DATE-001",
        ja=f"{_label(field)}の形式が正しくありません（例：令和8年11月26日、R8.11.26、2026-11-26）。",
        en=f"{field} is not a recognised date format (e.g. 令和8年11月26日, R8.11.26, 2026-11-26).",
        field=field,
    )


def _calendar_date(year: int, month: int, day: int, field: str) -> date:
    """Build a date, telling an impossible month/day apart from a year we cannot represent."""
    if year < 1:
        raise _before_meiji(field)
    if year > 9999:
        raise _out_of_era(field)
    if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(year, month)[1]:
        raise _impossible(field)
    return date(year, month, day)


@dataclass(frozen=True)
class WarekiDate:
    """A date written in an era: 令和 8 年 11 月 26 日. May be invalid until ``to_date``."""

    era: Era
    year: int
    month: int
    day: int

    def to_date(self, *, field: str = "date") -> date:
        """The Gregorian date; raises ``ValidationError`` (002 outside the era, 003 impossible
        month or day, 004 before 明治)."""
        if self.year < 1:
            # 昭和0年 does not exist; there is no date to check against the calendar.
            raise _out_of_era(field)
        d = _calendar_date(self.era.start.year + self.year - 1, self.month, self.day, field)
        if d < ERAS[0].start:
            raise _before_meiji(field)
        if d < self.era.start:
            raise _before_era(field, self.era)
        if not self.era.contains(d):
            raise _after_era(field, self.era)
        return d


def to_wareki(d: date) -> WarekiDate:
    """The era date for ``d``; ``JUKI-DATE-004`` if ``d`` is before 明治 (1868-10-23)."""
    # Newest first: almost every date a register handles is recent.
    for era in reversed(ERAS):
        if d >= era.start:
            return WarekiDate(era, d.year - era.start.year + 1, d.month, d.day)
    raise _before_meiji("date")


def format_wareki(d: date, *, lang: str = "ja") -> str:
    """Format ``d`` for display.

    ``ja``: 令和8年11月26日, 令和元年5月1日 (元年 for the first year, no zero padding).
    ``en``: 26 Nov 2026 (Reiwa 8).
    """
    w = to_wareki(d)
    if lang == "en":
        return f"{d.day} {calendar.month_abbr[d.month]} {d.year} ({w.era.romaji} {w.year})"
    year = "元" if w.year == 1 else str(w.year)
    return f"{w.era.name}{year}年{w.month}月{w.day}日"


def format_wareki_short(d: date) -> str:
    """Abbreviated era form used on forms and in lists: R8.11.26, R1.5.1 (no 元)."""
    w = to_wareki(d)
    return f"{w.era.letter}{w.year}.{w.month}.{w.day}"


_ERA_TOKEN = "|".join(re.escape(token) for token in _BY_TOKEN)
# [0-9], not \d: Unicode \d admits Arabic-Indic and other digits that NFKC leaves alone. Month
# and day are at most two digits, so 13月 reaches the calendar check (003) while a runaway
# number is simply not a date (001).
_MONTH_DAY_JA = r"(?P<m1>[0-9]{1,2})月(?P<d1>[0-9]{1,2})日"
_MONTH_DAY_SEP = r"(?P<sep>[./-])(?P<m2>[0-9]{1,2})(?P=sep)(?P<d2>[0-9]{1,2})"

# Era name or letter, year (digits or 元), then either 年月日 or one separator used
# consistently: 令和8年11月26日, R8.11.26, H31/4/30, 令和元.5.1.
_ERA_RE = re.compile(
    rf"(?P<era>{_ERA_TOKEN})(?P<y>[0-9]{{1,4}}|元)"
    rf"(?:年{_MONTH_DAY_JA}|{_MONTH_DAY_SEP})"
)
# Western: 2026-11-26, 2026/11/26, 2026.11.26, 2026年11月26日.
_WESTERN_RE = re.compile(rf"(?P<y>[0-9]{{4}})(?:年{_MONTH_DAY_JA}|{_MONTH_DAY_SEP})")


def _month_day(match: re.Match[str]) -> tuple[int, int]:
    month = match["m1"] if match["m1"] is not None else match["m2"]
    day = match["d1"] if match["d1"] is not None else match["d2"]
    return int(month), int(day)


def parse_date(text: str, *, field: str = "date") -> date:
    """Parse a date typed in any of the forms clerks use.

    Accepted: 令和8年11月26日, 令和元年5月1日 (spaces and full-width digits allowed);
    R8.11.26, h31/4/30, S64-1-7 (letter in either case, separator . / or -);
    2026-11-26, 2026/11/26, 2026年11月26日.

    Raises ``ValidationError``: ``JUKI-DATE-001`` unrecognised form, ``JUKI-DATE-002`` the
    date lies outside the named era (平成32年, 令和元年4月30日, 昭和0年), ``JUKI-DATE-003``
    impossible month or day, ``JUKI-DATE-004`` before 明治.
    """
    # NFKC turns full-width digits, letters and separators into ASCII, and the one-character
    # era squares ㍻ / ㋿ into 平成 / 令和. Spaces carry no meaning in any accepted form.
    normalised = "".join(unicodedata.normalize("NFKC", text).split())
    match = _ERA_RE.fullmatch(normalised)
    if match is not None:
        era = _BY_TOKEN[match["era"]]
        year = 1 if match["y"] == "元" else int(match["y"])
        month, day = _month_day(match)
        return WarekiDate(era, year, month, day).to_date(field=field)

    match = _WESTERN_RE.fullmatch(normalised)
    if match is not None:
        month, day = _month_day(match)
        d = _calendar_date(int(match["y"]), month, day, field)
        if d < ERAS[0].start:
            raise _before_meiji(field)
        return d

    raise _unparseable(field)
