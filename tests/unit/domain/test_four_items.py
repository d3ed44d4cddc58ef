"""Lookups by the four basic items (domain.md §2, §4.4, §7)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jukinet.domain.errors import ValidationError
from jukinet.domain.four_items import (
    Candidate,
    FourItemsError,
    FourItemsQuery,
    IndexKind,
    IndexLookup,
    MatchLevel,
    MatchReport,
    match,
    normalise_address,
    rank,
)
from jukinet.domain.names import kana_search_key, name_search_key
from jukinet.domain.register import Sex

BIRTH = date(1970, 4, 1)
ADDRESS = "東京都西東京市南町3丁目5番12号"
IVS = "\U000e0100"


def query(**overrides: Any) -> FourItemsQuery:
    values: dict[str, Any] = {
        "name": "高橋　一郎",
        "name_kana": None,
        "birth_date": BIRTH,
        "sex": None,
        "address": None,
    }
    values.update(overrides)
    return FourItemsQuery(**values)


def candidate(**overrides: Any) -> Candidate:
    values: dict[str, Any] = {
        "resident_code": "12345678901",
        "family_name": "髙橋",
        "given_name": "一郎",
        "family_name_kana": "タカハシ",
        "given_name_kana": "イチロウ",
        "birth_date": BIRTH,
        "sex": "male",
        "address": ADDRESS,
    }
    values.update(overrides)
    return Candidate(**values)


# --- the query ------------------------------------------------------------------------------


def test_query_keeps_the_name_as_written_and_folds_only_the_key() -> None:
    q = query(name=f" 髙橋　葛{IVS}飾 ")
    assert q.name == f"髙橋　葛{IVS}飾"
    assert q.name_key == name_search_key("高橋葛飾")
    assert q.name_key is not None
    assert " " not in q.name_key
    assert "\u3000" not in q.name_key


def test_query_kana_key_folds_hiragana_katakana_and_half_width() -> None:
    keys = {
        query(name=None, name_kana=k).kana_key
        for k in ("たかはし いちろう", "タカハシ　イチロウ", "ﾀｶﾊｼ ｲﾁﾛｳ")
    }
    assert keys == {"タカハシイチロウ"}


def test_pure_kana_name_without_reading_becomes_the_reading() -> None:
    q = query(name="たかはし　いちろう", name_kana="  ")
    assert q.name is None
    assert q.name_kana == "たかはし　いちろう"
    assert q.name_key is None
    assert q.kana_key == "タカハシイチロウ"


def test_pure_kana_name_with_a_reading_stays_the_written_name() -> None:
    q = query(name="さくら", name_kana="サクラ")
    assert q.name == "さくら"
    assert q.name_kana == "サクラ"


def test_lookup_prefers_the_kanji_key_and_falls_back_to_kana() -> None:
    both = query(name="髙橋一郎", name_kana="タカハシイチロウ")
    assert both.lookup == IndexLookup(IndexKind.NAME, name_search_key("高橋一郎"), BIRTH)
    kana_only = query(name=None, name_kana="たかはし")
    assert kana_only.lookup == IndexLookup(IndexKind.KANA, "タカハシ", BIRTH)


def test_query_normalises_sex_and_blank_items() -> None:
    q = query(sex="female", address="  ")
    assert q.sex is Sex.FEMALE
    assert q.address is None
    assert q.address_key is None
    assert query(sex="").sex is None
    assert query(sex=Sex.MALE).sex is Sex.MALE


def test_query_address_key_is_normalised() -> None:
    assert query(address="西東京市南町三丁目").address_key == "西東京市南町3"


# --- validation -----------------------------------------------------------------------------

SECRET_NAME = "秘密花子"
SECRET_ADDRESS = "秘密県秘密市99丁目"


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"name": None, "name_kana": None}, "JUKI-FOUR-001", "name"),
        ({"name": "　", "name_kana": " "}, "JUKI-FOUR-001", "name"),
        ({"name": SECRET_NAME, "birth_date": None}, "JUKI-FOUR-002", "birth_date"),
        ({"name": f"{SECRET_NAME}\t花"}, "JUKI-FOUR-003", "name"),
        ({"name": f"秘密\u202e{SECRET_NAME}"}, "JUKI-FOUR-003", "name"),
        ({"name_kana": "ヒミツ\u0000"}, "JUKI-FOUR-003", "name_kana"),
        ({"address": f"{SECRET_ADDRESS}\r\n1"}, "JUKI-FOUR-003", "address"),
        ({"name": SECRET_NAME * 16}, "JUKI-FOUR-004", "name"),
        ({"name_kana": "ヒミツ" * 41}, "JUKI-FOUR-004", "name_kana"),
        ({"address": SECRET_ADDRESS * 21}, "JUKI-FOUR-004", "address"),
        ({"name_kana": "Himitsu"}, "JUKI-FOUR-005", "name_kana"),
        ({"name_kana": "秘密"}, "JUKI-FOUR-005", "name_kana"),
        ({"sex": "unknown"}, "JUKI-FOUR-006", "sex"),
        ({"sex": 1}, "JUKI-FOUR-006", "sex"),
        ({"birth_date": "1970-04-01"}, "JUKI-FOUR-007", "birth_date"),
        ({"birth_date": datetime(1970, 4, 1, 12, 0)}, "JUKI-FOUR-007", "birth_date"),
        ({"name": IVS}, "JUKI-FOUR-008", "name"),
        ({"address": "－－"}, "JUKI-FOUR-008", "address"),
        ({"name": 42}, "JUKI-FOUR-009", "name"),
        ({"address": ["秘密"]}, "JUKI-FOUR-009", "address"),
    ],
)
def test_invalid_queries_are_refused_without_echoing_the_value(
    overrides: dict[str, Any], code: str, field: str
) -> None:
    with pytest.raises(FourItemsError) as exc:
        query(**overrides)
    error = exc.value
    assert isinstance(error, ValidationError)
    assert error.code == code
    assert error.field == field
    assert error.message_ja
    assert error.message_en
    assert error.message("ja") != error.message("en")
    for text in (error.message_ja, error.message_en, str(error)):
        assert "秘密" not in text
        assert "ヒミツ" not in text
        assert "Himitsu" not in text
        assert "1970" not in text
        assert "unknown" not in text


def test_limits_are_inclusive() -> None:
    assert query(name="高" * 30 + "　" + "橋" * 30).name_key == "高" * 30 + "橋" * 30
    assert query(name=f"高{IVS}" * 60).name_key == "高" * 60
    assert query(address="市" * 200).address_key == "市" * 200


def test_query_is_frozen() -> None:
    q = query()
    with pytest.raises(dataclasses.FrozenInstanceError):
        q.name = "別人"  # type: ignore[misc]


# --- names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "stored_family", "level"),
    [
        ("髙橋一郎", "髙橋", MatchLevel.EXACT),
        ("髙橋　一郎", "髙橋", MatchLevel.EXACT),
        ("高橋一郎", "髙橋", MatchLevel.FOLDED),
        ("髙橋一郎", "高橋", MatchLevel.FOLDED),
        ("山﨑一郎", "山崎", MatchLevel.FOLDED),
        ("山崎一郎", "山﨑", MatchLevel.FOLDED),
        ("齋藤一郎", "斎藤", MatchLevel.FOLDED),
        ("渡辺一郎", "渡邊", MatchLevel.FOLDED),
        (f"葛{IVS}西一郎", "葛西", MatchLevel.FOLDED),
        ("斉藤一郎", "斎藤", MatchLevel.MISMATCH),  # related but distinct: not joined
        ("山埼一郎", "山崎", MatchLevel.MISMATCH),
        ("高橋次郎", "髙橋", MatchLevel.MISMATCH),
    ],
)
def test_name_levels(written: str, stored_family: str, level: MatchLevel) -> None:
    report = match(query(name=written), candidate(family_name=stored_family))
    assert report.name is level
    assert report.is_candidate is (level is not MatchLevel.MISMATCH)


@pytest.mark.parametrize(
    ("reading", "level"),
    [
        ("タカハシイチロウ", MatchLevel.EXACT),
        ("タカハシ　イチロウ", MatchLevel.EXACT),
        ("たかはし いちろう", MatchLevel.FOLDED),
        ("ﾀｶﾊｼ ｲﾁﾛｳ", MatchLevel.FOLDED),
        ("タカハシイチロー", MatchLevel.MISMATCH),
        ("タカハシ", MatchLevel.MISMATCH),
    ],
)
def test_kana_levels(reading: str, level: MatchLevel) -> None:
    report = match(query(name=None, name_kana=reading), candidate())
    assert report.name is MatchLevel.NOT_GIVEN
    assert report.name_kana is level


def test_small_kana_fold_for_old_registers() -> None:
    stored = candidate(family_name_kana="キヤマ", given_name_kana="シヨウ")
    assert match(query(name=None, name_kana="キャマショウ"), stored).name_kana is MatchLevel.FOLDED


def test_both_name_and_reading_must_match() -> None:
    report = match(query(name="高橋一郎", name_kana="スズキイチロウ"), candidate())
    assert report.name is MatchLevel.FOLDED
    assert report.name_kana is MatchLevel.MISMATCH
    assert not report.is_candidate


# --- birth date, sex ------------------------------------------------------------------------


def test_birth_date_and_sex_are_exact_or_mismatch() -> None:
    assert match(query(), candidate()).birth_date is MatchLevel.EXACT
    assert match(query(), candidate(birth_date=date(1970, 4, 2))).birth_date is MatchLevel.MISMATCH
    assert match(query(), candidate()).sex is MatchLevel.NOT_GIVEN
    assert match(query(sex="male"), candidate()).sex is MatchLevel.EXACT
    assert match(query(sex=Sex.MALE), candidate(sex=Sex.MALE)).sex is MatchLevel.EXACT
    assert match(query(sex="female"), candidate()).sex is MatchLevel.MISMATCH


def test_a_malformed_stored_birth_date_mismatches_instead_of_raising() -> None:
    stored = candidate(birth_date=datetime(1970, 4, 1))
    assert match(query(), stored).birth_date is MatchLevel.MISMATCH


# --- addresses ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "南町3丁目5番12号",
        "南町３丁目５番１２号",
        "南町3-5-12",
        "南町３－５－１２",
        "南町3−5−12",
        "南町3‐5‐12",
        "南町3ー5ー12",
        "南町3ｰ5ｰ12",
        "南町3―5―12",
        "南町3–5–12",
        "南町 3 - 5 - 12",
        "南町三丁目五番十二号",
        "南町三丁目5-12",
        "南町3丁目5番地12",
        "南町3丁目5番地の12",
        "南町3丁目5の12",
        "南町3-5-12-",
    ],
)
def test_address_forms_fold_together(written: str) -> None:
    assert normalise_address(written) == "南町3-5-12"


@pytest.mark.parametrize(
    ("written", "folded"),
    [
        ("二十三丁目", "23"),
        ("十丁目", "10"),
        ("一〇丁目", "10"),
        ("百五番地", "105"),
        ("山田五百十二番地", "山田512"),
        ("千代田区一番町", "千代田区一番町"),  # a town name, not a block number
        ("十日町市", "十日町市"),
        ("センター", "センター"),  # ー inside a word is not a dash
        ("コーポ3ー1", "コーポ3-1"),
        ("霞ヶ関1丁目", "霞ケ関1"),
        ("霞が関1丁目", "霞が関1"),  # が is not folded
        ("髙島町1丁目", "高島町1"),
        ("南町3丁目5番12号 メゾン南101号室", "南町3-5-12メゾン南101号室"),
    ],
)
def test_address_folding_examples(written: str, folded: str) -> None:
    assert normalise_address(written) == folded


def test_old_style_numerals_are_not_folded() -> None:
    assert normalise_address("壱丁目") != normalise_address("1丁目")


@pytest.mark.parametrize(
    ("asked", "level"),
    [
        ("東京都西東京市南町3丁目5番12号", MatchLevel.EXACT),
        ("東京都西東京市南町三丁目五番十二号", MatchLevel.EXACT),
        ("東京都 西東京市 南町 3-5-12", MatchLevel.EXACT),
        ("東京都", MatchLevel.PARTIAL),
        ("東京都西東京市", MatchLevel.PARTIAL),
        ("東京都西東京市南町", MatchLevel.PARTIAL),
        ("東京都西東京市南町三丁目", MatchLevel.PARTIAL),
        ("東京都西東京市南町3-5", MatchLevel.PARTIAL),
        ("東京都西東京市南町3-5-1", MatchLevel.MISMATCH),  # would end inside "12"
        ("東京都西東京市南町31丁目", MatchLevel.MISMATCH),
        ("西東京市南町3丁目", MatchLevel.MISMATCH),  # an omitted prefecture is not folded
        ("東京都西東京市北町", MatchLevel.MISMATCH),
        ("東京都西東京市南町3-5-12-1", MatchLevel.MISMATCH),  # longer than the record
    ],
)
def test_address_levels(asked: str, level: MatchLevel) -> None:
    assert match(query(address=asked), candidate()).address is level


def test_partial_does_not_cut_a_number() -> None:
    stored = candidate(address="東京都西東京市南町31丁目1番")
    assert match(query(address="東京都西東京市南町3"), stored).address is MatchLevel.MISMATCH
    assert match(query(address="東京都西東京市南町31"), stored).address is MatchLevel.PARTIAL


# --- report, score, rank --------------------------------------------------------------------


def test_report_as_dict_and_score() -> None:
    report = match(query(name="髙橋一郎", sex="male", address="東京都西東京市"), candidate())
    assert report.as_dict() == {
        "name": "exact",
        "name_kana": "not_given",
        "birth_date": "exact",
        "sex": "exact",
        "address": "partial",
    }
    assert report.is_candidate
    assert report.score == 3 + 0 + 3 + 3 + 1


def test_mismatch_excludes_and_scores_below_every_candidate() -> None:
    report = MatchReport(
        name=MatchLevel.EXACT,
        name_kana=MatchLevel.EXACT,
        birth_date=MatchLevel.EXACT,
        sex=MatchLevel.EXACT,
        address=MatchLevel.MISMATCH,
    )
    assert not report.is_candidate
    assert report.score < 0
    nothing = MatchReport(*(MatchLevel.NOT_GIVEN,) * 5)
    assert nothing.is_candidate
    assert nothing.score == 0


def test_rank_orders_by_score_then_code_and_drops_mismatches() -> None:
    q = query(name="髙橋一郎", address="東京都西東京市南町")
    exact_name = candidate(resident_code="30000000000", address="東京都西東京市南町")
    folded_name = candidate(
        resident_code="10000000000", family_name="高橋", address="東京都西東京市南町"
    )
    partial_address = candidate(resident_code="20000000000")
    other_birth = candidate(resident_code="00000000000", birth_date=date(1971, 4, 1))
    other_town = candidate(resident_code="00000000001", address="東京都西東京市北町1丁目")
    ranked = rank(q, [other_birth, partial_address, folded_name, other_town, exact_name])
    assert [c.resident_code for c, _ in ranked] == ["30000000000", "10000000000", "20000000000"]
    assert [r.score for _, r in ranked] == [3 + 3 + 3, 2 + 3 + 3, 3 + 3 + 1]
    assert all(r.is_candidate for _, r in ranked)


def test_rank_never_merges_identical_looking_records() -> None:
    first = candidate(resident_code="11111111111")
    second = candidate(resident_code="22222222222")
    ranked = rank(query(name="高橋一郎"), [second, first])
    assert [c for c, _ in ranked] == [first, second]
    assert ranked[0][1] == ranked[1][1]


def test_rank_reports_the_same_row_fetched_twice_once() -> None:
    row = candidate()
    assert len(rank(query(), [row, row, dataclasses.replace(row)])) == 1


def test_rank_limit() -> None:
    rows = [candidate(resident_code=f"{i:011d}") for i in range(30)]
    assert len(rank(query(), rows)) == 20
    assert [c.resident_code for c, _ in rank(query(), rows, limit=2)] == [
        "00000000000",
        "00000000001",
    ]
    with pytest.raises(ValueError, match="limit"):
        rank(query(), rows, limit=0)


def test_rank_accepts_any_iterable() -> None:
    assert len(rank(query(), (candidate(resident_code=str(i)) for i in range(3)))) == 3


# --- properties -----------------------------------------------------------------------------

_text = st.text(max_size=40)
_candidates = st.builds(
    Candidate,
    resident_code=st.text(alphabet="0123456789", min_size=11, max_size=11),
    family_name=_text,
    given_name=_text,
    family_name_kana=_text,
    given_name_kana=_text,
    birth_date=st.dates(),
    sex=st.sampled_from([s.value for s in Sex]),
    address=st.text(max_size=200),
)
_queries = [
    query(),
    query(name="髙橋　一郎", name_kana="たかはし", sex="male", address="東京都西東京市南町三丁目"),
    query(name=None, name_kana="ﾀｶﾊｼ", address="3-5"),
    query(name=f"葛{IVS}", sex="female", address="ー"),
]


@given(st.sampled_from(_queries), _candidates)
def test_match_never_raises_and_is_consistent(q: FourItemsQuery, c: Candidate) -> None:
    report = match(q, c)
    assert report.is_candidate == (MatchLevel.MISMATCH not in report.as_dict().values())
    assert (report.score >= 0) == report.is_candidate
    assert (report.name is MatchLevel.NOT_GIVEN) == (q.name is None)
    assert (report.address is MatchLevel.NOT_GIVEN) == (q.address is None)


@given(st.sampled_from(_queries), st.lists(_candidates, max_size=15))
def test_rank_keeps_every_distinct_matching_record(
    q: FourItemsQuery, rows: list[Candidate]
) -> None:
    ranked = rank(q, rows, limit=100)
    expected = {c for c in rows if match(q, c).is_candidate}
    assert {c for c, _ in ranked} == expected
    assert len(ranked) == len(expected)
    keys = [(-r.score, c.resident_code) for c, r in ranked]
    assert keys == sorted(keys)


@given(_text, _text)
def test_a_record_always_matches_a_query_made_from_it(family: str, given_name: str) -> None:
    name = family + given_name
    if not name_search_key(name) or any(ch.isspace() for ch in name):
        return
    try:
        q = query(name=name)
    except FourItemsError:
        return
    if q.name is None:  # a pure-kana name is taken as the reading
        return
    stored = candidate(family_name=family, given_name=given_name)
    assert match(q, stored).name in {MatchLevel.EXACT, MatchLevel.FOLDED}


@given(st.text(max_size=80))
def test_normalise_address_never_raises_and_is_idempotent(text: str) -> None:
    once = normalise_address(text)
    assert normalise_address(once) == once
    assert not once.endswith("-")


@given(st.text(max_size=80))
def test_an_address_is_an_exact_match_for_itself(text: str) -> None:
    try:
        q = query(address=text)
    except FourItemsError:
        return
    if q.address is not None:
        assert match(q, candidate(address=text)).address is MatchLevel.EXACT


def test_kana_key_agrees_with_names_module() -> None:
    assert query(name=None, name_kana="やまだ たろう").kana_key == kana_search_key("ヤマダタロウ")
