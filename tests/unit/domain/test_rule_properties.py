"""Properties of the register's rules over any input, where the example tests cannot reach.

The rules' own files hold the round trips and the check-digit algebra (test_codes.py,
test_wareki.py, test_names.py). Here: each rule is total — for *any* text it either returns a
well-formed value or raises the project's ValidationError, never another exception (which the
API would turn into a 5xx) — its results are fixed points, and its errors never echo the value.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from jukinet.domain.codes import make_resident_code, validate_resident_code
from jukinet.domain.errors import FieldErrors, ValidationError
from jukinet.domain.names import PersonName, validate_kana, validate_name
from jukinet.domain.wareki import (
    ERAS,
    Era,
    format_wareki,
    parse_date,
    to_wareki,
)


def _attempt(
    rule: Callable[..., Any], *args: Any, **kwargs: Any
) -> tuple[Any, ValidationError | None]:
    """The rule's result, or the ValidationError it raised (any other exception propagates)."""
    try:
        return rule(*args, **kwargs), None
    except ValidationError as error:
        return None, error


_BODIES = st.text(alphabet="0123456789", min_size=10, max_size=10)
_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
#: Text that looks like what reaches the rules: Japanese, digits, separators, controls, anything.
_INPUT = st.one_of(
    st.text(max_size=40),
    st.text(
        alphabet="令和平成昭和大正明治元年月日RHSTMrhstm0123456789０１２３４５６７８９./- 　",
        max_size=20,
    ),
    st.text(alphabet="山田髙﨑邉太郎花子ヤマダタロウやまだ 　\u3000\t\n<>&1", max_size=20),
)


# --- resident codes ----------------------------------------------------------------------------


@given(_INPUT)
def test_validate_resident_code_is_total(value: str) -> None:
    code, error = _attempt(validate_resident_code, value)
    if error is not None:
        assert error.code in ("JUKI-CODE-001", "JUKI-CODE-002")
        return
    assert len(code) == 11
    assert code.isascii()
    assert code.isdigit()
    assert validate_resident_code(code) == code


@given(_BODIES)
def test_exactly_one_check_digit_completes_each_body(body: str) -> None:
    outcomes = [_attempt(validate_resident_code, body + digit) for digit in "0123456789"]
    accepted = [code for code, error in outcomes if error is None]
    assert accepted == [make_resident_code(body)]


@given(_BODIES)
def test_a_code_typed_in_full_width_digits_is_the_same_code(body: str) -> None:
    code = make_resident_code(body)
    assert validate_resident_code(f"\u3000{code.translate(_FULL_WIDTH)} ") == code


# --- wareki ------------------------------------------------------------------------------------


@given(_INPUT)
def test_parse_date_is_total(text: str) -> None:
    parsed, error = _attempt(parse_date, text, field="birth_date")
    if error is not None:
        assert error.code.startswith("JUKI-DATE-")
        assert error.field == "birth_date"
        return
    assert parsed >= ERAS[0].start


@given(st.dates(min_value=ERAS[0].start, max_value=date(2200, 12, 31)))
def test_every_date_has_one_era_and_gannen_is_its_first_year(d: date) -> None:
    wareki = to_wareki(d)
    assert wareki.era.contains(d)
    assert wareki.year >= 1
    assert wareki.to_date() == d
    # 元年 exactly for the first (possibly partial) year of an era.
    assert ("元年" in format_wareki(d)) == (d.year == wareki.era.start.year)


@pytest.mark.parametrize("era", ERAS[1:], ids=lambda era: era.name)
def test_the_eve_of_an_era_belongs_to_the_previous_one(era: Era) -> None:
    start = era.start
    eve = to_wareki(start - timedelta(days=1))
    assert eve.era is not era
    assert eve.era.contains(start - timedelta(days=1))
    assert format_wareki(start).startswith(f"{era.name}元年")


# --- names -------------------------------------------------------------------------------------


def _message_of(code: str) -> str:
    """The wording of an error code for a harmless value (its template, without the input)."""
    samples = {"JUKI-NAME-001": " ", "JUKI-NAME-002": "山" * 31, "JUKI-NAME-003": "1"}
    try:
        validate_name(samples[code], field="family_name")
    except ValidationError as error:
        return error.message_ja + error.message_en
    raise AssertionError(code)


@given(_INPUT)
def test_validate_name_is_total_and_its_result_a_fixed_point(value: str) -> None:
    name, error = _attempt(validate_name, value, field="family_name")
    if error is not None:
        assert error.code in ("JUKI-NAME-001", "JUKI-NAME-002", "JUKI-NAME-003")
        assert error.field == "family_name"
        # The value is never echoed (unless the value is a piece of the fixed wording itself,
        # or of the error's code: "00" is in JUKI-NAME-003).
        stripped = value.strip()
        assume(len(stripped) >= 2 and stripped not in _message_of(error.code) + error.code)
        assert stripped not in error.message_ja + error.message_en + str(error)
        return
    assert name == name.strip(" \u3000")
    assert name
    assert validate_name(name, field="family_name") == name
    assert not any(ch in name for ch in "<>&\n\t0123456789")


@given(_INPUT)
def test_validate_kana_is_total(value: str) -> None:
    reading, error = _attempt(validate_kana, value, field="family_name_kana")
    if error is not None:
        assert error.code.startswith("JUKI-NAME-")
        return
    assert validate_kana(reading, field="family_name_kana") == reading


@given(_INPUT, _INPUT, _INPUT, _INPUT)
def test_person_name_reports_every_broken_part_or_none(
    family: str, given_name: str, family_kana: str, given_kana: str
) -> None:
    parts = {
        "family_name": (validate_name, family),
        "given_name": (validate_name, given_name),
        "family_name_kana": (validate_kana, family_kana),
        "given_name_kana": (validate_kana, given_kana),
    }
    broken = {
        field for field, (rule, value) in parts.items() if _attempt(rule, value, field=field)[1]
    }
    _name, error = _attempt(
        PersonName.create,
        family=family,
        given=given_name,
        family_kana=family_kana,
        given_kana=given_kana,
    )
    if isinstance(error, FieldErrors):
        reported = {e.field for e in error.each()}
    else:
        reported = {error.field} if error is not None else set()
    assert reported == broken
