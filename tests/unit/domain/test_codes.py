"""Resident code (住民票コード): check digit, validation, generation, masking."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jukinet.domain.codes import (
    DEFAULT_SCHEME,
    Modulus11Scheme,
    is_valid_resident_code,
    make_resident_code,
    mask_resident_code,
    random_resident_codes,
    validate_resident_code,
)
from jukinet.domain.errors import ValidationError

SCHEME = Modulus11Scheme()
bodies = st.text(alphabet="0123456789", min_size=10, max_size=10)


def _blind_pair(r_old: int, r_new: int) -> bool:
    # Remainders 0 and 1 both give check digit 0: the scheme's one blind spot.
    return r_old in (0, 1) and r_new in (0, 1)


# --- check digit -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # Worked by hand: digits from the right 0,9,8,7,6,5,4,3,2,1 × weights 2,3,4,5,6,7,2,3,4,5
        # = 195; 195 mod 11 = 8; 11 - 8 = 3.
        ("1234567890", "12345678903"),
        # Σ = 0 → remainder 0 → check 0.
        ("0000000000", "00000000000"),
        # 2 × weight 6 = 12 → remainder 1 → check 0.
        ("0000020000", "00000200000"),
        # 1 × weight 2 = 2 → remainder 2 → check 9.
        ("0000000001", "00000000019"),
        # 1 × weight 5 (leftmost) = 5 → check 6.
        ("1000000000", "10000000006"),
    ],
)
def test_make_resident_code_vectors(body: str, expected: str) -> None:
    assert make_resident_code(body) == expected


def test_weights_cycle_two_to_seven_from_the_right() -> None:
    assert Modulus11Scheme.WEIGHTS == (2, 3, 4, 5, 6, 7, 2, 3, 4, 5)


def test_default_scheme_is_modulus_11() -> None:
    assert isinstance(DEFAULT_SCHEME, Modulus11Scheme)


@pytest.mark.parametrize(
    "body", ["123456789", "12345678901", "12345678a0", "１２３４５６７８９０", ""]
)
def test_make_resident_code_rejects_malformed_bodies(body: str) -> None:
    with pytest.raises(ValueError, match="10 ASCII digits"):
        make_resident_code(body)


@given(bodies)
def test_every_made_code_is_valid(body: str) -> None:
    code = make_resident_code(body)
    assert len(code) == 11
    assert code.startswith(body)
    assert is_valid_resident_code(code)
    assert validate_resident_code(code) == code


@given(st.integers(min_value=0, max_value=10**10 - 1))
def test_table_path_agrees_with_the_weighted_sum(number: int) -> None:
    body = f"{number:010d}"
    remainder = SCHEME.remainder(body)  # Σ(digit × weight) mod 11, digit by digit
    expected = "0" if remainder <= 1 else str(11 - remainder)
    assert SCHEME.check_digit(body) == expected
    assert SCHEME.check_digit_of_int(number) == expected


@given(bodies, st.integers(min_value=0, max_value=10), st.integers(min_value=1, max_value=9))
def test_single_digit_change_is_detected_except_between_remainders_0_and_1(
    body: str, position: int, shift: int
) -> None:
    code = make_resident_code(body)
    changed_digit = str((int(code[position]) + shift) % 10)
    mutated = code[:position] + changed_digit + code[position + 1 :]
    if position == 10:
        # The check digit is a function of the body, so changing it alone is always caught.
        assert not is_valid_resident_code(mutated)
        return
    blind = _blind_pair(SCHEME.remainder(body), SCHEME.remainder(mutated[:10]))
    assert is_valid_resident_code(mutated) == blind


def test_single_digit_change_can_go_undetected() -> None:
    # Only true statement about single-digit errors: they are NOT all caught. This pair differs
    # in one digit and both are valid (remainders 0 and 1 both give check digit 0).
    assert is_valid_resident_code("00000000000")
    assert is_valid_resident_code("00000200000")


@given(bodies, st.integers(min_value=0, max_value=8))
def test_adjacent_body_transposition_is_detected_except_between_remainders_0_and_1(
    body: str, position: int
) -> None:
    code = make_resident_code(body)
    a, b = code[position], code[position + 1]
    if a == b:
        return
    swapped = code[:position] + b + a + code[position + 2 :]
    blind = _blind_pair(SCHEME.remainder(body), SCHEME.remainder(swapped[:10]))
    assert is_valid_resident_code(swapped) == blind


def test_swapping_last_body_digit_with_check_digit_can_go_undetected() -> None:
    # Not covered by the weights argument: the check digit has no weight of its own. About 2% of
    # such swaps pass; this is one.
    assert is_valid_resident_code("54362089401")
    assert is_valid_resident_code("54362089410")


# --- validation --------------------------------------------------------------------------------


def test_validate_strips_whitespace_and_accepts_full_width_digits() -> None:
    assert validate_resident_code("  12345678903\n") == "12345678903"
    assert validate_resident_code("１２３４５６７８９０３") == "12345678903"
    assert validate_resident_code("\u300012345678903\u3000") == "12345678903"


@pytest.mark.parametrize(
    "value",
    ["", "1234567890", "123456789012", "1234567890a", "1234-567890", "١٢٣٤٥٦٧٨٩٠٣", "1234 5678903"],
)
def test_validate_rejects_wrong_format_with_code_001(value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_resident_code(value, field="subject.resident_code")
    error = caught.value
    assert error.code == "JUKI-CODE-001"
    assert error.field == "subject.resident_code"
    assert "subject.resident_code" in error.message_ja
    assert "subject.resident_code" in error.message_en
    assert "11" in error.message_en


def test_validate_rejects_wrong_check_digit_with_code_002() -> None:
    with pytest.raises(ValidationError) as caught:
        validate_resident_code("12345678904")
    error = caught.value
    assert error.code == "JUKI-CODE-002"
    assert error.field == "resident_code"
    assert "check digit" in error.message_en
    assert "検査数字" in error.message_ja


def test_validate_rejects_non_strings_as_format_errors() -> None:
    with pytest.raises(ValidationError) as caught:
        validate_resident_code(12345678903)  # type: ignore[arg-type]
    assert caught.value.code == "JUKI-CODE-001"


@given(st.text(alphabet="0123456789０１２３４５６７８９ x-", min_size=3, max_size=20))
def test_error_messages_never_contain_the_value(value: str) -> None:
    try:
        validate_resident_code(value)
    except ValidationError as error:
        stripped = value.strip()
        if len(stripped) >= 3:  # "11" legitimately appears in the message ("11 digits")
            for text in (error.message_ja, error.message_en, str(error)):
                assert stripped not in text


@pytest.mark.parametrize("value", ["12345678903", "98765432109", "00000000000"])
def test_error_messages_never_contain_a_real_looking_value(value: str) -> None:
    wrong = value[:10] + str((int(value[10]) + 1) % 10)
    with pytest.raises(ValidationError) as caught:
        validate_resident_code(wrong)
    for text in (caught.value.message_ja, caught.value.message_en, str(caught.value)):
        assert wrong not in text
        assert wrong[:10] not in text


def test_is_valid_resident_code() -> None:
    assert is_valid_resident_code("12345678903")
    assert not is_valid_resident_code("12345678904")
    assert not is_valid_resident_code("1234567890")


class _AlwaysSeven:
    """A stand-in scheme: proves the check-digit rule is replaceable."""

    def check_digit(self, body: str) -> str:
        return "7"


def test_scheme_is_replaceable() -> None:
    other = _AlwaysSeven()
    assert make_resident_code("1234567890", scheme=other) == "12345678907"
    assert validate_resident_code("12345678907", scheme=other) == "12345678907"
    assert not is_valid_resident_code("12345678903", scheme=other)
    codes = random_resident_codes(random.Random(3), 50, scheme=other)
    assert all(code.endswith("7") for code in codes)


# --- generation --------------------------------------------------------------------------------


def test_random_codes_are_distinct_valid_and_deterministic() -> None:
    codes = random_resident_codes(random.Random(42), 5_000)
    assert len(codes) == 5_000
    assert len(set(codes)) == 5_000
    assert all(is_valid_resident_code(code) for code in codes)
    assert random_resident_codes(random.Random(42), 5_000) == codes
    assert random_resident_codes(random.Random(43), 5_000) != codes


def test_random_codes_respect_exclude() -> None:
    first = random_resident_codes(random.Random(7), 1_000)
    # The same seed would reproduce exactly these codes; excluding them forces fresh draws.
    again = random_resident_codes(random.Random(7), 1_000, exclude=first)
    assert not set(again) & set(first)
    assert len(set(again)) == 1_000
    again_from_set = random_resident_codes(random.Random(7), 1_000, exclude=set(first))
    assert again_from_set == again


def test_random_codes_edge_counts() -> None:
    assert random_resident_codes(random.Random(1), 0) == []
    with pytest.raises(ValueError, match="negative"):
        random_resident_codes(random.Random(1), -1)
    with pytest.raises(ValueError, match="left"):
        random_resident_codes(random.Random(1), 10**10 + 1)


def test_many_random_codes_are_distinct_and_valid() -> None:
    # Speed is a benchmark's business (bench/seed_population.py), never a unit test's.
    codes = random_resident_codes(random.Random(0), 100_000)
    assert len(set(codes)) == 100_000
    assert all(is_valid_resident_code(code) for code in codes)


# --- masking -----------------------------------------------------------------------------------


def test_mask_keeps_only_last_four_digits() -> None:
    assert mask_resident_code("12345678903") == "*******8903"
    assert mask_resident_code(" １２３４５６７８９０３ ") == "*******8903"


@pytest.mark.parametrize("value", ["", "123", "1234567890", "123456789012", "abcdefghijk"])
def test_mask_hides_everything_that_is_not_a_code(value: str) -> None:
    assert mask_resident_code(value) == "*" * 11
