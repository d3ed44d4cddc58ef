"""The card move's rules (domain.md §4.2): the move-in deadline, continuation, no moves abroad."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jukinet.domain import card_move as rules
from jukinet.domain.errors import Conflict, ValidationError

DECLARED = date(2026, 11, 1)


def test_deadline_is_thirty_days_after_the_declared_move_when_that_comes_first() -> None:
    # Moved in on the declared day: 30 days after it (1 Dec) is earlier than 14 days after
    # moving in only when moving in late; here 14 days after (15 Nov) comes first.
    assert rules.move_in_deadline(declared_move_on=DECLARED, moved_in_on=DECLARED) == date(
        2026, 11, 15
    )
    # Moved in 25 days after the declared date: 30 days after the declaration (1 Dec) is
    # earlier than 14 days after moving in (10 Dec).
    assert rules.move_in_deadline(
        declared_move_on=DECLARED, moved_in_on=date(2026, 11, 26)
    ) == date(2026, 12, 1)


@given(
    declared=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)),
    offset=st.integers(min_value=-60, max_value=60),
)
def test_deadline_is_the_earlier_of_the_two(declared: date, offset: int) -> None:
    moved_in = declared + timedelta(days=offset)
    deadline = rules.move_in_deadline(declared_move_on=declared, moved_in_on=moved_in)
    assert deadline <= declared + timedelta(days=30)
    assert deadline <= moved_in + timedelta(days=14)
    assert deadline in (declared + timedelta(days=30), moved_in + timedelta(days=14))


def test_a_move_in_on_its_last_day_is_accepted_and_the_day_after_refused_naming_it() -> None:
    last = rules.check_move_in_deadline(
        declared_move_on=DECLARED, moved_in_on=DECLARED, today=date(2026, 11, 15)
    )
    assert last == date(2026, 11, 15)
    with pytest.raises(Conflict) as refused:
        rules.check_move_in_deadline(
            declared_move_on=DECLARED, moved_in_on=DECLARED, today=date(2026, 11, 16)
        )
    assert refused.value.code == "JUKI-MOVE-002"
    assert "令和8年11月15日" in refused.value.message_ja
    assert "2026-11-15" in refused.value.message_en


def test_a_move_in_date_in_the_future_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        rules.check_move_in_deadline(
            declared_move_on=DECLARED, moved_in_on=date(2026, 11, 3), today=date(2026, 11, 2)
        )
    assert refused.value.code == "JUKI-MOVE-001"


def test_the_card_is_continued_within_ninety_days_or_lapses() -> None:
    moved = date(2026, 11, 1)
    assert rules.continuation_deadline(moved) == date(2027, 1, 30)
    rules.check_continuation(moved_in_on=moved, today=date(2027, 1, 30))
    with pytest.raises(Conflict) as lapsed:
        rules.check_continuation(moved_in_on=moved, today=date(2027, 1, 31))
    assert lapsed.value.code == "JUKI-MOVE-003"


@pytest.mark.parametrize("destination", ["国外（アメリカ合衆国）", "Paris, France"])
def test_a_move_abroad_is_not_a_card_move(destination: str) -> None:
    with pytest.raises(ValidationError) as refused:
        rules.check_not_abroad(destination)
    assert refused.value.code == "JUKI-MOVE-004"


def test_a_move_within_japan_is_a_card_move() -> None:
    rules.check_not_abroad("神奈川県横浜市中区本町一丁目1番地")


def test_a_move_out_filed_for_another_destination_is_refused() -> None:
    facts = rules.MoveOutFacts(destination_municipality_code="141003", planned_on=DECLARED)
    rules.check_destination(facts, here="141003")
    with pytest.raises(Conflict) as refused:
        rules.check_destination(facts, here="271004")
    assert refused.value.code == "JUKI-MOVE-007"
