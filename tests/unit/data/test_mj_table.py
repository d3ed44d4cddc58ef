"""MJ identifiers of a name's characters outside JIS X 0213 (issue 14 item 5)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from jukinet.data.mj_table import identified, identity_identified, mj_table, name_identifiers
from jukinet.domain.errors import FieldErrors, ValidationError
from jukinet.domain.mj_names import (
    check_carried,
    format_identifiers,
    glyph_units,
    mj_identifiers,
    needs_identifier,
    parse_identifiers,
)
from jukinet.domain.names import PersonName, name_search_key

TSUCHIYOSHI = "\U00020bb7"  # 𠮷
KATSU_MJ = "葛\U000e0102"  # 葛 in the Moji_Joho IVS collection (MJ022335)
KATSU_AJ1 = "葛\U000e0100"  # 葛 in the Adobe-Japan1 collection: no MJ glyph


def test_the_named_characters_map_to_their_mj_identifiers() -> None:
    table = mj_table()
    assert mj_identifiers(f"{TSUCHIYOSHI}田", table, field="family_name") == [
        (TSUCHIYOSHI, "MJ032129")
    ]
    assert mj_identifiers("髙橋", table, field="family_name") == [("髙", "MJ028902")]
    assert mj_identifiers(f"{KATSU_MJ}飾", table, field="family_name") == [(KATSU_MJ, "MJ022335")]


def test_characters_within_jis_x_0213_carry_no_identifier() -> None:
    # 﨑 (U+FA11) is in JIS X 0213 (plane 1): every system draws it alike.
    assert mj_identifiers("山﨑", mj_table(), field="family_name") == []
    assert mj_identifiers("山田太郎", mj_table(), field="given_name") == []
    assert not needs_identifier("﨑")
    # The same character with a Moji_Joho selector names one glyph, so it does need one.
    assert mj_identifiers("山﨑\U000e0103", mj_table(), field="family_name") == [
        ("﨑\U000e0103", "MJ030197")
    ]


def test_a_variation_sequence_is_one_unit_and_never_split() -> None:
    assert glyph_units(f"{KATSU_MJ}飾") == [KATSU_MJ, "飾"]
    assert glyph_units("a\ufe00b") == ["a\ufe00", "b"]
    pairs = mj_identifiers(f"{TSUCHIYOSHI}{KATSU_MJ}髙", mj_table(), field="given_name")
    assert [unit for unit, _ in pairs] == [TSUCHIYOSHI, KATSU_MJ, "髙"]


def test_a_character_without_an_mj_identifier_is_refused_by_name() -> None:
    with pytest.raises(ValidationError) as caught:
        mj_identifiers(f"{KATSU_AJ1}城", mj_table(), field="family_name")
    error = caught.value
    assert error.code == "JUKI-NAME-021"
    assert error.field == "family_name"
    assert "U+845B+U+E0100" in error.message_en
    assert f"「{KATSU_AJ1}」" in error.message_ja
    assert "氏" in error.message_ja


def test_letters_outside_jis_x_0213_that_are_not_kanji_need_no_identifier() -> None:
    # MJ is a set of kanji: a Hangul syllable has no MJ glyph and no glyph variants to fix.
    assert mj_identifiers("김", mj_table(), field="family_name") == []


def test_the_one_text_form_round_trips_and_malformed_forms_are_refused() -> None:
    pairs = [(TSUCHIYOSHI, "MJ032129"), (KATSU_MJ, "MJ022335")]
    text = format_identifiers(pairs)
    assert text == f"{TSUCHIYOSHI}:MJ032129 {KATSU_MJ}:MJ022335"
    assert parse_identifiers(text, field="family_name") == pairs
    assert parse_identifiers("", field="family_name") == []
    for bad in ("MJ032129", f"{TSUCHIYOSHI}:MJ0321", f"{TSUCHIYOSHI}:mj032129", ":MJ032129"):
        with pytest.raises(ValidationError) as caught:
            parse_identifiers(bad, field="family_name")
        assert caught.value.code == "JUKI-NAME-022"


def test_carried_identifiers_must_match_the_name() -> None:
    good = f"{TSUCHIYOSHI}:MJ032129"
    assert check_carried(f"{TSUCHIYOSHI}田", good, field="family_name") == good
    assert check_carried("山田", "", field="family_name") == ""
    for name, value in (
        (f"{TSUCHIYOSHI}田", ""),  # missing
        ("吉田", good),  # the name has no such character
        (f"{TSUCHIYOSHI}髙", good),  # one missing
    ):
        with pytest.raises(ValidationError):
            check_carried(name, value, field="family_name")


def test_a_name_gets_its_identifiers_and_folded_search_is_unchanged() -> None:
    name = identified(
        PersonName.create(
            family="髙橋", given=f"{TSUCHIYOSHI}子", family_kana="タカハシ", given_kana="ヨシコ"
        )
    )
    assert name.family_mj == "髙:MJ028902"
    assert name.given_mj == f"{TSUCHIYOSHI}:MJ032129"
    assert name_search_key(name.family + name.given) == name_search_key("高橋吉子")


def test_both_parts_without_identifiers_are_reported_together() -> None:
    name = PersonName.create(
        family=KATSU_AJ1, given="葛\U000e0101", family_kana="カツ", given_kana="カツ"
    )
    with pytest.raises(FieldErrors) as caught:
        identified(name)
    assert [e.field for e in caught.value.each()] == ["family_name", "given_name"]


def test_identity_items_are_completed_only_where_missing() -> None:
    from datetime import date

    from jukinet.domain.identity import IdentityInfo

    info = IdentityInfo(
        resident_code="12345678901",
        family_name=f"{TSUCHIYOSHI}田",
        given_name="太郎",
        family_name_kana="ヨシダ",
        given_name_kana="タロウ",
        birth_date=date(1980, 1, 1),
        sex="male",
        address="東京都西東京市南町五丁目6番13号",
    )
    done = identity_identified(info)
    assert done.family_name_mj == f"{TSUCHIYOSHI}:MJ032129"
    assert done.given_name_mj == ""
    assert identity_identified(done) is done
    assert name_identifiers("山田", field="family_name") == ""


FONT = Path("/usr/share/fonts/truetype/ipamj/ipamjm.ttf")


@pytest.mark.skipif(not FONT.exists(), reason="fonts-ipamj-mincho is not installed")
def test_the_shipped_table_is_what_the_script_builds_from_the_font() -> None:
    script = Path(__file__).resolve().parents[3] / "scripts" / "build_mj_table.py"
    spec = importlib.util.spec_from_file_location("build_mj_table", script)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.build(FONT) == module.OUTPUT.read_bytes()
