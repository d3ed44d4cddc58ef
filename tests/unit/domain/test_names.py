"""Names: stored exactly as written, searched on folded keys (domain.md §7)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jukinet.domain.errors import FieldErrors, ValidationError
from jukinet.domain.names import (
    PersonName,
    is_kana_query,
    kana_search_key,
    name_search_key,
    validate_kana,
    validate_name,
)

IVS = "\U000e0100"  # VARIATION SELECTOR-17, the first ideographic variation selector
TSUCHIYOSHI = "\U00020bb7"  # 𠮷


def _code(exc: pytest.ExceptionInfo[ValidationError]) -> str:
    return exc.value.code


# --- validate_name ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "山田",
        f"{TSUCHIYOSHI}田",
        f"葛{IVS}",
        f"葛{IVS}飾",
        "髙橋",
        "渡邉",
        "山﨑",
        "齋藤",
        "O'Brien",
        "Smith-Jones",
        "ジョン・スミス",
    ],
)
def test_validate_name_keeps_the_name_exactly(name: str) -> None:
    assert validate_name(name, field="family_name") == name


def test_validate_name_keeps_non_bmp_and_ivs_code_points() -> None:
    stored = validate_name(f"{TSUCHIYOSHI}田", field="family_name")
    assert [hex(ord(c)) for c in stored] == ["0x20bb7", "0x7530"]
    stored = validate_name(f"葛{IVS}", field="family_name")
    assert stored.encode("utf-8") == "葛".encode() + IVS.encode()


def test_validate_name_strips_only_outer_ascii_and_ideographic_spaces() -> None:
    assert validate_name("\u3000 山田 \u3000", field="family_name") == "山田"
    assert validate_name("John Smith", field="family_name") == "John Smith"


@pytest.mark.parametrize("value", ["", " ", "\u3000\u3000", " \u3000 "])
def test_validate_name_rejects_empty(value: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_name(value, field="family_name")
    assert _code(exc) == "JUKI-NAME-001"
    assert exc.value.field == "family_name"


def test_validate_name_length_limit_counts_code_points_without_selectors() -> None:
    assert validate_name("山" * 30, field="given_name") == "山" * 30
    # Thirty characters each carrying an IVS is still thirty characters.
    with_ivs = f"葛{IVS}" * 30
    assert validate_name(with_ivs, field="given_name") == with_ivs
    # Non-BMP characters count once each (not as UTF-16 pairs).
    assert validate_name(TSUCHIYOSHI * 30, field="given_name") == TSUCHIYOSHI * 30
    with pytest.raises(ValidationError) as exc:
        validate_name("山" * 31, field="given_name")
    assert _code(exc) == "JUKI-NAME-002"
    with pytest.raises(ValidationError) as exc:
        validate_name("山" * 11, field="given_name", max_length=10)
    assert _code(exc) == "JUKI-NAME-002"


@pytest.mark.parametrize(
    "value",
    [
        "山田1",
        "山田１",  # full-width digit
        "山\t田",
        "山田\n",
        "山\x00田",
        "<script>",
        "山田{",
        "山田}",
        'Mc"Coy',
        "山田;",
        "山田＜",  # full-width lookalike
        "山田①",  # enclosed digit
        "山\u202e田",  # bidi override
        "山\u200b田",  # zero-width space
        "山\ud800田",  # lone surrogate
        "山田😀",  # emoji
        "花子★",  # pictograph
        "太郎\U0001f44d\U0001f3fd",  # emoji with a skin-tone modifier
        "一郎\U0001f1ef\U0001f1f5",  # regional-indicator flag
        "次郎1\u20e3",  # keycap
    ],
)
def test_validate_name_rejects_bad_characters(value: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_name(value, field="family_name")
    assert _code(exc) == "JUKI-NAME-003"


def test_name_errors_never_contain_the_value() -> None:
    secret = "秘密山田"
    for bad in (f"{secret}1", secret * 10):
        with pytest.raises(ValidationError) as exc:
            validate_name(bad, field="family_name")
        err = exc.value
        for text in (err.message_ja, err.message_en, str(err)):
            assert secret not in text
            assert "family_name" in err.message_en


# --- validate_kana ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kana",
    ["ヤマダ", "ヴァイオリン", "サトウ", "スズキ\u3000イチロウ", "ヶ", "ヽヾ", "ジョー"],
)
def test_validate_kana_accepts_katakana(kana: str) -> None:
    assert validate_kana(kana, field="family_name_kana") == kana


def test_validate_kana_strips_outer_spaces() -> None:
    assert validate_kana(" ヤマダ\u3000", field="family_name_kana") == "ヤマダ"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "JUKI-NAME-011"),
        ("\u3000", "JUKI-NAME-011"),
        ("やまだ", "JUKI-NAME-012"),
        ("ヤマだ", "JUKI-NAME-012"),
        ("ﾔﾏﾀﾞ", "JUKI-NAME-013"),
        ("ヤマﾀﾞ", "JUKI-NAME-013"),
        ("山田", "JUKI-NAME-014"),
        ("YAMADA", "JUKI-NAME-014"),
        ("ヤマダ タロウ", "JUKI-NAME-014"),  # ASCII space between words
        ("ヤマダ\u3000\u3000タロウ", "JUKI-NAME-014"),  # doubled space
        ("ヤマダ・タロウ", "JUKI-NAME-014"),
        ("ヤマダ1", "JUKI-NAME-014"),
        ("ア" * 61, "JUKI-NAME-015"),
    ],
)
def test_validate_kana_errors(value: str, code: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_kana(value, field="family_name_kana")
    assert _code(exc) == code
    assert exc.value.field == "family_name_kana"


def test_validate_kana_hiragana_message_says_use_katakana() -> None:
    with pytest.raises(ValidationError) as exc:
        validate_kana("やまだ", field="given_name_kana")
    assert "ひらがな" in exc.value.message_ja
    assert "カタカナ" in exc.value.message_ja
    assert "hiragana" in exc.value.message_en
    assert "katakana" in exc.value.message_en
    assert "やまだ" not in exc.value.message_ja


_KATAKANA = [chr(cp) for cp in range(0x30A1, 0x30F7)] + ["ー", "ヽ", "ヾ"]
_WORD = st.text(alphabet=st.sampled_from(_KATAKANA), min_size=1, max_size=12)
_READING = st.lists(_WORD, min_size=1, max_size=4).map("\u3000".join)
_HIRAGANA = st.sampled_from([chr(cp) for cp in range(0x3041, 0x3097)] + ["ゝ", "ゞ"])


@given(_READING)
def test_validate_kana_accepts_the_allowed_alphabet(reading: str) -> None:
    assert validate_kana(reading, field="family_name_kana") == reading


@given(st.text(max_size=20), _HIRAGANA, st.text(max_size=20))
def test_validate_kana_rejects_any_hiragana(before: str, hira: str, after: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_kana(before + hira + after, field="family_name_kana")
    assert _code(exc) == "JUKI-NAME-012"


# --- PersonName ------------------------------------------------------------------------------


def test_person_name_create_and_full_forms() -> None:
    name = PersonName.create(
        family=" 山田", given="太郎 ", family_kana="ヤマダ", given_kana="タロウ"
    )
    assert name == PersonName("山田", "太郎", "ヤマダ", "タロウ")
    assert name.full == "山田\u3000太郎"
    assert name.full_kana == "ヤマダ\u3000タロウ"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"family": ""}, "family_name"),
        ({"given": "太郎1"}, "given_name"),
        ({"family_kana": "やまだ"}, "family_name_kana"),
        ({"given_kana": ""}, "given_name_kana"),
    ],
)
def test_person_name_create_names_the_failing_field(kwargs: dict[str, str], field: str) -> None:
    parts = {"family": "山田", "given": "太郎", "family_kana": "ヤマダ", "given_kana": "タロウ"}
    parts.update(kwargs)
    with pytest.raises(ValidationError) as exc:
        PersonName.create(**parts)
    assert exc.value.field == field


def test_person_name_is_immutable() -> None:
    name = PersonName.create(family="山田", given="太郎", family_kana="ヤマダ", given_kana="タロウ")
    with pytest.raises(AttributeError):
        name.family = "田中"  # type: ignore[misc]


# --- name_search_key -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "group",
    [
        ["髙橋", "高橋"],
        ["渡邊", "渡邉", "渡辺"],
        ["山﨑", "山崎", "山嵜"],
        ["齋藤", "斎藤"],
        ["濵田", "濱田", "浜田"],
        [f"{TSUCHIYOSHI}田", "吉田"],
        [f"葛{IVS}飾", "葛飾", "葛\ufe00飾"],
        ["廣瀬", "広瀬"],
        ["櫻井", "桜井"],
        ["澤田", "沢田"],
        ["山田 太郎", "山田\u3000太郎", "山田太郎", " 山田太郎\t"],
    ],
)
def test_variants_share_a_key(group: list[str]) -> None:
    keys = {name_search_key(name) for name in group}
    assert len(keys) == 1, keys


def test_saki_does_not_fold_into_sai_or_the_wrong_saki() -> None:
    # ja-cvu-normalizer alone maps 﨑 to 埼; joyokanji must run first.
    assert name_search_key("山﨑") == "山崎"
    assert name_search_key("山﨑") != name_search_key("山埼")
    # 斎 and 斉 are different characters, only their old forms fold.
    assert name_search_key("齋藤") != name_search_key("齊藤")
    assert name_search_key("齊藤") == name_search_key("斉藤")


def test_ivs_name_is_stored_exactly_but_searched_as_the_base() -> None:
    stored = validate_name(f"葛{IVS}", field="family_name")
    assert stored == f"葛{IVS}"
    assert name_search_key(stored) == name_search_key("葛") == "葛"


def test_name_search_key_folds_width() -> None:
    assert name_search_key("ＳＭＩＴＨ") == "SMITH"


_CJK = st.one_of(
    st.characters(min_codepoint=0x2E80, max_codepoint=0x9FFF),  # radicals, kana, CJK
    st.characters(min_codepoint=0xF900, max_codepoint=0xFAFF),  # compatibility ideographs
    st.characters(min_codepoint=0x20000, max_codepoint=0x2FA1F),  # extensions, compat supp.
    st.characters(min_codepoint=0xFE00, max_codepoint=0xFE0F),
    st.characters(min_codepoint=0xE0100, max_codepoint=0xE01EF),
    st.sampled_from(list("髙﨑嵜邉邊濵濱齋齊德惠廣國澤櫻⿑ 　\u2003")),
)


@given(st.text(alphabet=_CJK, max_size=12))
def test_name_search_key_is_idempotent(text: str) -> None:
    key = name_search_key(text)
    assert name_search_key(key) == key


@given(st.text(max_size=12))
def test_name_search_key_is_idempotent_on_any_text(text: str) -> None:
    key = name_search_key(text)
    assert name_search_key(key) == key


# --- kana_search_key / is_kana_query ---------------------------------------------------------


@pytest.mark.parametrize("text", ["やまだ", "ヤマダ", "ﾔﾏﾀﾞ", " ヤ マ ダ\u3000"])
def test_kana_spellings_share_a_key(text: str) -> None:
    assert kana_search_key(text) == "ヤマダ"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("きゃっと", "キヤツト"),
        ("キャット", "キヤツト"),
        ("ｷｬｯﾄ", "キヤツト"),
        ("ヶ", "ケ"),
        ("ゔぁ", "ヴア"),
        ("サトウ　ハナコ", "サトウハナコ"),
    ],
)
def test_kana_search_key_folds_small_kana(text: str, key: str) -> None:
    assert kana_search_key(text) == key


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("やまだ", True),
        ("ヤマダ　タロウ", True),
        ("ﾔﾏﾀﾞ", True),
        ("ジョー", True),
        ("山田", False),
        ("やまだ1", False),
        ("yamada", False),
        ("", False),
        ("  ", False),
    ],
)
def test_is_kana_query(text: str, expected: bool) -> None:
    assert is_kana_query(text) is expected


@given(st.text(max_size=12))
def test_kana_search_key_is_idempotent(text: str) -> None:
    key = kana_search_key(text)
    assert kana_search_key(key) == key


def test_every_broken_part_of_a_name_is_reported_at_once() -> None:
    with pytest.raises(FieldErrors) as raised:
        PersonName.create(family="山田1", given="太郎", family_kana="やまだ", given_kana="タロウ")
    assert [error.field for error in raised.value.each()] == ["family_name", "family_name_kana"]
    assert [detail["field"] for detail in raised.value.details()] == [
        "family_name",
        "family_name_kana",
    ]


def test_one_broken_part_raises_its_own_error() -> None:
    with pytest.raises(ValidationError) as raised:
        PersonName.create(family="山田", given="太郎", family_kana="ヤマダ", given_kana="たろう")
    assert not isinstance(raised.value, FieldErrors)
    assert raised.value.field == "given_name_kana"


@pytest.mark.parametrize("value", ["佐々木", "〆木", "ヶ谷", "髙橋", "O'Brien", "Müller", "𠮷田"])
def test_names_with_iteration_marks_variants_and_latin_letters_are_kept(value: str) -> None:
    assert validate_name(value, field="family_name") == value
