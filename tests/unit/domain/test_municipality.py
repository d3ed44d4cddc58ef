"""Municipality code (全国地方公共団体コード) and the municipality value objects."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jukinet.domain.addresses import check_in_municipality
from jukinet.domain.errors import ValidationError
from jukinet.domain.municipality import (
    Municipality,
    Neighbourhood,
    municipality_check_digit,
    validate_municipality_code,
)

# The vectors from design/domain.md §3. Note: 07464 is 泉崎村 (Izumizaki), not Yamatsuri; the
# vector itself is valid, only its label in the design note is off (矢祭町 is 074829).
VECTORS = ["131016", "132292", "141003", "271004", "011002", "074641", "074829"]


@pytest.mark.parametrize("code", VECTORS)
def test_check_digit_vectors(code: str) -> None:
    assert municipality_check_digit(code[:5]) == code[5]
    assert validate_municipality_code(code) == code


@pytest.mark.parametrize(
    ("five", "expected"),
    [
        # Σ = 0 → 11 - 0 = 11 → last digit 1.
        ("00000", "1"),
        # 5 × weight 2 = 10 → remainder 10 → 11 - 10 = 1.
        ("00005", "1"),
        # 6 × weight 2 = 12 → remainder 1 → 11 - 1 = 10 → last digit 0.
        ("00006", "0"),
    ],
)
def test_check_digit_edge_remainders(five: str, expected: str) -> None:
    assert municipality_check_digit(five) == expected


@pytest.mark.parametrize("five", ["1234", "123456", "1234a", "１３２２９", ""])
def test_check_digit_rejects_malformed_input(five: str) -> None:
    with pytest.raises(ValueError, match="5 ASCII digits"):
        municipality_check_digit(five)


@given(st.text(alphabet="0123456789", min_size=5, max_size=5))
def test_every_made_code_validates(five: str) -> None:
    code = five + municipality_check_digit(five)
    assert validate_municipality_code(code) == code


def test_validate_normalises_width_and_whitespace() -> None:
    assert validate_municipality_code(" １３２２９２ ") == "132292"


@pytest.mark.parametrize("value", ["13229", "1322920", "", "13229x", "13-229", "１３２２９"])
def test_validate_rejects_format_with_code_001(value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_municipality_code(value, field="address.municipality")
    error = caught.value
    assert error.code == "JUKI-MUNI-001"
    assert error.field == "address.municipality"
    assert "address.municipality" in error.message_en
    assert "address.municipality" in error.message_ja
    if value.strip():
        assert value not in error.message_en
        assert value not in error.message_ja


def test_validate_rejects_check_digit_with_code_002() -> None:
    with pytest.raises(ValidationError) as caught:
        validate_municipality_code("132293")
    error = caught.value
    assert error.code == "JUKI-MUNI-002"
    assert error.field == "municipality_code"
    assert "132293" not in error.message_en
    assert "132293" not in error.message_ja


def _nishitokyo() -> Municipality:
    return Municipality(
        code="132292",
        prefecture_code="13",
        prefecture="東京都",
        name="西東京市",
        name_kana="ニシトウキョウシ",
    )


def test_municipality_full_name_and_immutability() -> None:
    municipality = _nishitokyo()
    assert municipality.full_name == "東京都西東京市"
    with pytest.raises(dataclasses.FrozenInstanceError):
        municipality.name = "田無市"  # type: ignore[misc]


def test_municipality_rejects_bad_code_or_prefecture() -> None:
    with pytest.raises(ValidationError) as caught:
        dataclasses.replace(_nishitokyo(), code="132293")
    assert caught.value.code == "JUKI-MUNI-002"
    with pytest.raises(ValidationError) as caught:
        dataclasses.replace(_nishitokyo(), code="１３２２９２")
    assert caught.value.code == "JUKI-MUNI-001"
    with pytest.raises(ValidationError) as caught:
        dataclasses.replace(_nishitokyo(), prefecture_code="14")
    assert caught.value.field == "prefecture_code"


def test_neighbourhood_full_name() -> None:
    town = Neighbourhood(
        postal_code="2020011",
        prefecture="東京都",
        city="西東京市",
        town="泉町",
        town_kana="イズミチョウ",
    )
    assert town.full_name == "東京都西東京市泉町"


@pytest.mark.parametrize(
    "address", ["東京都西東京市泉町一丁目2番3号", "西東京市田無町四丁目5番6号"]
)
def test_an_address_in_the_municipality_is_accepted(address: str) -> None:
    assert check_in_municipality(address, _nishitokyo()) == address


@pytest.mark.parametrize(
    "address",
    ["東京都八王子市元本郷町三丁目24番1号", "東京都東京都西東京市", "泉町一丁目2番3号", "Seoul"],
)
def test_an_address_outside_the_municipality_is_refused(address: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_in_municipality(address, _nishitokyo(), field="address")
    assert (caught.value.code, caught.value.field) == ("JUKI-REG-043", "address")
    assert address not in caught.value.message_en
