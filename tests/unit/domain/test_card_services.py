"""The pure rules of card services by ordinance (条例利用)."""

from __future__ import annotations

from datetime import date

import pytest

from jukinet.domain import card_services as rules
from jukinet.domain.errors import AuthenticationFailed, Conflict, FieldErrors, ValidationError
from jukinet.domain.resident_card import CardForm, CardState, ResidentCard

TODAY = date(2026, 11, 26)


def _card(state: CardState, expires_on: date = date(2036, 11, 25)) -> ResidentCard:
    return ResidentCard("132292-00000001", "12345678903", CardForm.NAME_ONLY, state,
                        issued_on=date(2026, 11, 26), expires_on=expires_on)  # fmt: skip


@pytest.mark.parametrize("code", ["library", "certificate-kiosk", "abc", "a" * 32])
def test_service_codes_that_are_accepted(code: str) -> None:
    assert rules.validate_service_code(code) == code


@pytest.mark.parametrize("code", ["", "ab", "Library", "1abc", "abc-", "a b", "a" * 33, "図書館"])
def test_service_codes_that_are_refused(code: str) -> None:
    with pytest.raises(ValidationError) as refused:
        rules.validate_service_code(code)
    assert refused.value.code == "JUKI-ORD-001"


def test_a_new_service_is_checked_all_at_once_and_stripped() -> None:
    service = rules.check_new_service(
        code="library", name_ja=" 図書館 ", name_en="Library", ordinance_name="図書館条例",
        enacted_on=TODAY, today=TODAY,
    )  # fmt: skip
    assert (service.name_ja, service.active) == ("図書館", True)
    with pytest.raises(FieldErrors) as refused:
        rules.check_new_service(
            code="x", name_ja="", name_en=" ", ordinance_name="", enacted_on=None, today=TODAY
        )
    assert [e.code for e in refused.value.errors] == [
        "JUKI-ORD-001", "JUKI-ORD-002", "JUKI-ORD-003", "JUKI-ORD-004", "JUKI-ORD-005",
    ]  # fmt: skip


def test_service_identifiers_come_from_randomness_only() -> None:
    identifier = rules.service_identifier_from(bytes(range(15)))
    assert rules.is_service_identifier(identifier)
    assert len(identifier) == 29
    assert rules.service_identifier_from(bytes(range(15))) == identifier
    assert rules.service_identifier_from(bytes(range(1, 16))) != identifier
    assert not rules.is_service_identifier("12345678903")
    with pytest.raises(ValueError, match="random bytes"):
        rules.service_identifier_from(b"12345678903")


def test_enrolment_needs_a_card_in_force() -> None:
    rules.require_card_for_enrolment(_card(CardState.VALID), today=TODAY)
    for card in (
        None,
        _card(CardState.APPLIED),
        _card(CardState.SUSPENDED),
        _card(CardState.INVALID),
        _card(CardState.VALID, expires_on=date(2026, 11, 25)),
    ):
        with pytest.raises(Conflict) as refused:
            rules.require_card_for_enrolment(card, today=TODAY)
        assert refused.value.code == "JUKI-ORD-020"


def test_deactivation_and_enrolment_states() -> None:
    service = rules.check_new_service(
        code="library", name_ja="図書館", name_en="Library", ordinance_name="条例",
        enacted_on=TODAY, today=TODAY,
    )  # fmt: skip
    rules.require_active(service)
    ended = rules.deactivate(service)
    with pytest.raises(Conflict, match="JUKI-ORD-012"):
        rules.require_active(ended)
    with pytest.raises(Conflict, match="JUKI-ORD-013"):
        rules.deactivate(ended)
    rules.require_not_enrolled(None)
    rules.require_not_enrolled(rules.EnrolmentState.WITHDRAWN)
    with pytest.raises(Conflict, match="JUKI-ORD-021"):
        rules.require_not_enrolled(rules.EnrolmentState.ENROLLED)
    with pytest.raises(Conflict, match="JUKI-ORD-022"):
        rules.require_enrolled(rules.EnrolmentState.WITHDRAWN)


@pytest.mark.parametrize(
    ("card_error", "code", "status"),
    [
        (Conflict("JUKI-CARD-011", ja="", en=""), "JUKI-ORD-031", 409),
        (Conflict("JUKI-CARD-013", ja="", en=""), "JUKI-ORD-032", 409),
        (Conflict("JUKI-CARD-014", ja="", en=""), "JUKI-ORD-033", 409),
        (AuthenticationFailed("JUKI-CARD-014", ja="", en=""), "JUKI-ORD-033", 409),
        (AuthenticationFailed("JUKI-CARD-030", ja="", en=""), "JUKI-ORD-035", 401),
        (AuthenticationFailed("JUKI-CARD-036", ja="", en=""), "JUKI-ORD-034", 401),
        (AuthenticationFailed("JUKI-CARD-034", ja="", en=""), "JUKI-ORD-034", 401),
        (ValidationError("JUKI-CARD-002", ja="", en=""), "JUKI-CARD-002", 422),
    ],
)
def test_card_refusals_as_the_terminal_is_told(
    card_error: Conflict, code: str, status: int
) -> None:
    refusal = rules.terminal_refusal(card_error)
    assert (refusal.code, refusal.status) == (code, status)
