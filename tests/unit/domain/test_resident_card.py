"""The resident card's rules (domain.md §5): PIN, serial, ten-year validity, lock, states."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jukinet.domain.errors import Conflict, ValidationError
from jukinet.domain.resident_card import (
    MAX_PIN_TRIES,
    CardForm,
    CardState,
    InvalidReason,
    NetworkStatus,
    ResidentCard,
    end_reason_for_move_out,
    expiry_for,
    invalidate,
    is_live,
    issue,
    issuer_of,
    record_pin_failure,
    record_pin_success,
    require_usable,
    reset_pin,
    resume,
    serial_for,
    suspend,
    validate_pin,
    validate_serial,
)

TODAY = date(2026, 12, 3)


def _applied() -> ResidentCard:
    return ResidentCard("132292-00000001", "12345678901", CardForm.NAME_ONLY, CardState.APPLIED)


def _valid() -> ResidentCard:
    return issue(_applied(), today=TODAY)


@pytest.mark.parametrize("pin", ["0000", "1234", "9876"])
def test_four_digit_pins_pass(pin: str) -> None:
    assert validate_pin(pin) == pin


@pytest.mark.parametrize("pin", ["", "123", "12345", "12a4", "１２３４", " 123", "1234\n"])
def test_other_pins_are_refused(pin: str) -> None:
    with pytest.raises(ValidationError) as refused:
        validate_pin(pin)
    assert refused.value.code == "JUKI-CARD-001"


def test_serials_name_their_municipality() -> None:
    assert serial_for("132292", 7) == "132292-00000007"
    assert issuer_of("141003-00000001") == "141003"
    for bad in ("132292-1", "13229-00000001", "132292_00000001", ""):
        with pytest.raises(ValidationError):
            validate_serial(bad)


def test_validity_is_ten_years_less_a_day() -> None:
    assert expiry_for(date(2026, 12, 3)) == date(2036, 12, 2)
    # 29 February: the tenth anniversary falls on 1 March of a common year.
    assert expiry_for(date(2028, 2, 29)) == date(2038, 2, 28)


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2080, 12, 31)))
def test_a_card_is_valid_until_its_expiry_and_invalid_the_day_after(day: date) -> None:
    card = issue(_applied(), today=day)
    assert card.expires_on is not None
    assert card.network_status(card.expires_on) is NetworkStatus.VALID
    after = date.fromordinal(card.expires_on.toordinal() + 1)
    assert card.network_status(after) is NetworkStatus.INVALID


def test_the_third_wrong_pin_locks_and_a_right_one_clears_only_before() -> None:
    card = _valid()
    card = record_pin_failure(record_pin_failure(card))
    assert not card.pin_locked
    assert record_pin_success(card).pin_failures == 0
    card = record_pin_failure(card)
    assert card.pin_locked
    assert card.pin_failures == MAX_PIN_TRIES
    # A locked card stays locked: a right PIN does not help, nor do more wrong ones count past 3.
    assert record_pin_success(card).pin_locked
    assert record_pin_failure(card).pin_failures == MAX_PIN_TRIES
    with pytest.raises(Conflict) as locked:
        require_usable(card, today=TODAY)
    assert locked.value.code == "JUKI-CARD-014"
    assert not reset_pin(card, today=TODAY).pin_locked


def test_suspension_and_resumption() -> None:
    suspended = suspend(_valid(), today=TODAY)
    assert suspended.network_status(TODAY) is NetworkStatus.SUSPENDED
    with pytest.raises(Conflict):
        suspend(suspended, today=TODAY)
    with pytest.raises(Conflict):
        require_usable(suspended, today=TODAY)
    assert resume(suspended, today=TODAY).state is CardState.VALID
    with pytest.raises(Conflict):
        resume(_valid(), today=TODAY)


def test_an_invalid_card_keeps_its_first_reason_and_is_not_live() -> None:
    ended = invalidate(_valid(), InvalidReason.DIED)
    assert invalidate(ended, InvalidReason.CODE_CHANGED).invalid_reason is InvalidReason.DIED
    assert not is_live(ended)
    assert is_live(_applied())
    with pytest.raises(Conflict):
        suspend(ended, today=TODAY)
    with pytest.raises(Conflict):
        issue(ended, today=TODAY)


@pytest.mark.parametrize(
    ("destination", "reason"),
    [
        ("神奈川県横浜市中区本町1丁目", InvalidReason.MOVED_WITHOUT_CONTINUATION),
        ("北海道札幌市中央区", InvalidReason.MOVED_WITHOUT_CONTINUATION),
        ("国外（アメリカ合衆国）", InvalidReason.EMIGRATED),
        ("Paris, France", InvalidReason.EMIGRATED),
    ],
)
def test_a_move_abroad_is_emigration(destination: str, reason: InvalidReason) -> None:
    assert end_reason_for_move_out(destination) is reason
