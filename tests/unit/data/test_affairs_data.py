"""The shipped statutory affairs (appended tables 1–5, 2012) and the seed recipients."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, date, datetime
from importlib import resources

import pytest

from jukinet.data.affairs import (
    AFFAIR_ITEM_OVERRIDES,
    KNOWN_TEXT_DEFECTS,
    SEED_RECIPIENTS,
    affairs_in_table,
    find_affairs,
    get_affair,
    item_policy,
    missing_rows,
    seed_registry,
    statutory_affairs,
)
from jukinet.domain.affairs import (
    DEFAULT_AFFAIR_ITEMS,
    AffairNotAuthorised,
    AffairRegistry,
    InvalidAffairCode,
    Recipient,
    RecipientKind,
    RecipientType,
    TableNotPermitted,
    UnknownAffair,
    affair_code,
    parse_affair_code,
)

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
START = date(2026, 12, 1)


def _raw_rows() -> list[dict[str, str]]:
    text = (
        resources.files("jukinet.data")
        .joinpath("statutory_affairs_2012.csv")
        .read_text(encoding="utf-8")
    )
    return list(csv.DictReader(io.StringIO(text)))


def test_all_222_rows_load_with_unique_codes() -> None:
    affairs = statutory_affairs()
    raw = _raw_rows()
    assert len(raw) == 222
    assert len(affairs) == 222
    assert {affair_code(int(r["table"]), r["row"]) for r in raw} == set(affairs)
    for code, affair in affairs.items():
        assert affair.code == code
        assert parse_affair_code(code) == code
        assert affair.recipient_kind is RecipientKind.for_table(affair.table)
    # Statutory order, and read-only.
    keys = [affair.sort_key for affair in affairs.values()]
    assert keys == sorted(keys)
    with pytest.raises(TypeError):
        affairs["T9-1"] = affairs["T1-16"]  # type: ignore[index]
    assert statutory_affairs() is affairs  # cached


def test_rows_per_table() -> None:
    counts = Counter(affair.table for affair in statutory_affairs().values())
    assert counts == {1: 131, 2: 13, 3: 29, 4: 12, 5: 37}
    assert [len(affairs_in_table(table)) for table in (1, 2, 3, 4, 5)] == [131, 13, 29, 12, 37]
    assert affairs_in_table(6) == ()


@pytest.mark.parametrize(
    ("code", "recipient", "start"),
    [
        ("T1-1-2", "金融庁又は財務省", "銀行法（昭和五十六年法律第五十九号）による"),
        ("T1-16", "総務省", "恩給法（大正十二年法律第四十八号。"),
        ("T1-26", "総務省", "電波法（昭和二十五年法律第百三十一号）による同法第四条の免許"),
        ("T1-41", "外務省", "旅券法（昭和二十六年法律第二百六十七号）による同法第三条第一項の発給"),
        ("T1-97", "国土交通省", "建設業法（昭和二十四年法律第百号）による建設業の許可"),
        ("T1-101", "国土交通省", "宅地建物取引業法（昭和二十七年法律第百七十六号）"),
        ("T1-107", "国土交通省", "不動産の鑑定評価に関する法律（昭和三十八年法律第百五十二号）"),
        ("T1-122", "人事院若しくは", "国家公務員災害補償法（防衛省の職員の給与等"),
        ("T2-1-2", "市町村長", "同一都道府県の区域内の他の市町村の区域内に住所を移した選挙人が"),
        (
            "T2-2",
            "選挙管理委員会",
            "同一都道府県の区域内の他の市町村の区域内に住所を移した選挙人に",
        ),
        ("T3-29", "福島県知事", "福島復興再生特別措置法による同法第二十六条の健康管理調査"),
        ("T4-6-2", "市町村長", "総合特別区域法による"),
        ("T5-3", "都道府県知事", "貸金業法による同法第三条第一項の登録"),
        ("T5-34", "都道府県知事", "福島復興再生特別措置法による"),
    ],
)
def test_codes_are_pinned_to_their_statutory_text(code: str, recipient: str, start: str) -> None:
    affair = get_affair(code)
    assert affair.recipient.startswith(recipient)
    assert affair.affair.startswith(start)


@pytest.mark.parametrize(
    ("code", "law"),
    [
        ("T1-16", "恩給法"),
        ("T1-1-6", "協同組合による金融事業に関する法律"),
        ("T1-17", "執行官法の一部を改正する法律"),
        ("T1-20", "地方公務員等共済組合法の一部を改正する法律"),
        ("T1-40", "出入国管理及び難民認定法"),
        ("T1-43", "旧令による共済組合等からの年金受給者のための特別措置法"),
        ("T1-122", "国家公務員災害補償法"),
        ("T3-21", "旅行業法"),
        ("T5-4", "恩給法"),
        ("T5-26", "通訳案内士法"),
        ("T2-1-2", None),
        ("T2-2", None),
        ("T4-1-2", None),
    ],
)
def test_law_names_of_real_rows(code: str, law: str | None) -> None:
    assert get_affair(code).law_name == law


def test_every_row_but_the_election_ones_has_a_law_name() -> None:
    without = [a.code for a in statutory_affairs().values() if a.law_name is None]
    assert without == ["T2-1-2", "T2-2", "T4-1-2"]
    for affair in statutory_affairs().values():
        if affair.law_name is not None:
            assert affair.affair.startswith(affair.law_name)


def test_get_affair_lookups_and_errors() -> None:
    assert get_affair("ｔ１－１６") is get_affair("T1-16")
    with pytest.raises(UnknownAffair) as unknown:
        get_affair("T1-1")  # well-formed, but the file has no table 1 row 1
    assert unknown.value.code == "JUKI-AFF-002"
    assert unknown.value.status == 404
    with pytest.raises(InvalidAffairCode):
        get_affair("T6-1")


def test_find_affairs_searches_wording_and_law_names() -> None:
    assert [a.code for a in find_affairs("電波法")] == ["T1-26"]
    assert [a.code for a in find_affairs("旅券法")] == ["T1-41", "T5-6"]
    assert {a.code for a in find_affairs("建設業法")} >= {"T1-97", "T3-17", "T5-21"}
    assert find_affairs("存在しない法律") == ()


def test_table_recipients_are_of_the_tables_kind() -> None:
    for affair in affairs_in_table(5):
        assert affair.recipient == "都道府県知事"
    for affair in affairs_in_table(3):
        assert affair.recipient.endswith("知事")
    for table in (2, 4):
        for affair in affairs_in_table(table):
            assert affair.recipient.endswith(("の長", "市町村長", "選挙管理委員会"))
    named = {a.code: a.named_prefecture_code for a in statutory_affairs().values()}
    assert {code: pref for code, pref in named.items() if pref} == {
        "T3-21-3": "07",
        "T3-26-2": "47",
        "T3-29": "07",
    }


def test_table_rule_over_every_row() -> None:
    national = Recipient(id="agency:x", name="x", kind=RecipientType.NATIONAL_BODY)
    for affair in statutory_affairs().values():
        prefecture = affair.named_prefecture_code or "13"
        candidates = [
            national,
            Recipient(
                id="pref:x", name="x", kind=RecipientType.PREFECTURE, prefecture_code=prefecture
            ),
            Recipient(
                id="muni:x", name="x", kind=RecipientType.MUNICIPAL_ORGAN, prefecture_code="13"
            ),
        ]
        users = [r.kind for r in candidates if r.may_use(affair)]
        assert users == [affair.recipient_kind.recipient_type], affair.code
        assert national.may_use(affair) is (affair.table == 1)


def test_known_text_defects_are_still_there() -> None:
    # When the shipped CSV is repaired these fail: then drop the notes (and docs/affairs.md's).
    assert set(KNOWN_TEXT_DEFECTS) == {"T1-109", "T1-122", "T3-1"}
    assert (
        "士法第二十六条の三第一項に規定する指定事務所登録機関 建築士法"
        in get_affair("T1-109").affair
    )
    assert get_affair("T1-122").affair.endswith(" 別表第")
    assert "総務省令でる給付の支給" in get_affair("T3-1").affair
    clean = [
        a.code
        for a in statutory_affairs().values()
        if a.code not in KNOWN_TEXT_DEFECTS
        and (not a.affair.endswith("総務省令で定めるもの") or " " in a.affair)
    ]
    assert clean == []


def test_missing_row_numbers() -> None:
    assert missing_rows(1) == (1, 4, 6, 7, 10, 14, 15, 110, 111, 112)
    assert missing_rows(2) == ()
    assert missing_rows(3) == (2, 3, 4)
    assert missing_rows(4) == ()
    assert missing_rows(5) == ()
    assert missing_rows(9) == ()


def test_item_policy_is_the_documented_default() -> None:
    assert dict(AFFAIR_ITEM_OVERRIDES) == {}
    policy = item_policy()
    assert all(policy.items_for(code) == DEFAULT_AFFAIR_ITEMS for code in statutory_affairs())


# -- seeds -------------------------------------------------------------------------------------

SEED_LAWS = {
    "agency:soumu-onkyu": ("T1-16", "恩給法"),
    "agency:kkr": ("T1-42", "国家公務員共済組合法"),
    "agency:soumu-denpa": ("T1-26", "電波法"),
    "agency:mlit-kantei": ("T1-107", "不動産の鑑定評価に関する法律"),
    "agency:mlit-kensetsu": ("T1-97", "建設業法"),
    "agency:mlit-takken": ("T1-101", "宅地建物取引業法"),
    "agency:mofa-ryoken": ("T1-41", "旅券法"),
}


def test_seed_recipients_affairs_exist_and_match_their_statutes() -> None:
    seeds = {seed.recipient.id: seed for seed in SEED_RECIPIENTS}
    assert len(seeds) == len(SEED_RECIPIENTS)
    for rid, (code, law) in SEED_LAWS.items():
        assert seeds[rid].affair_codes == (code,)
        affair = get_affair(code)
        assert affair.law_name == law
    assert "記載事項の訂正" in get_affair("T1-41").affair  # passport corrections
    assert get_affair("T1-16").recipient == "総務省"
    for seed in SEED_RECIPIENTS:
        for code in seed.affair_codes:
            assert seed.recipient.may_use(get_affair(code)), (seed.recipient.id, code)
    assert {s.recipient.kind for s in SEED_RECIPIENTS} == set(RecipientType)
    assert [get_affair(c).law_name for c in seeds["pref:13"].affair_codes] == [
        "旅券法",
        "建設業法",
        "宅地建物取引業法",
        "不動産の鑑定評価に関する法律",
    ]


def test_seed_registry_authorises_exactly_the_seed_grants() -> None:
    registry = seed_registry(valid_from=START, granted_by="officer:seed", recorded_at=NOW)
    assert len(registry.entries) == sum(len(s.affair_codes) for s in SEED_RECIPIENTS)
    granted = registry.authorise("agency:soumu-onkyu", "T1-16", on=START)
    assert granted.affair.law_name == "恩給法"
    assert granted.items == DEFAULT_AFFAIR_ITEMS
    with pytest.raises(AffairNotAuthorised) as caught:
        registry.authorise("agency:soumu-onkyu", "T1-26", on=START)
    assert caught.value.message_en.startswith(
        "affair T1-26 is not authorised for recipient agency:soumu-onkyu"
    )
    assert not registry.is_authorised("agency:soumu-onkyu", "T1-16", date(2026, 11, 30))
    assert registry.holders("T5-6", START) == ("pref:13",)
    assert registry.authorise("pref:13", "T5-6", on=START, provider_prefecture_code="13")
    assert registry.authorise("muni:132292", "T2-8", on=START, provider_prefecture_code="13")
    history = registry.history("pref:13")
    assert [e.affair_code for e in history] == ["T5-6", "T5-21", "T5-24", "T5-27"]
    assert all(e.decided_by == "officer:seed" and e.valid_from == START for e in history)


def test_table_rule_is_enforced_on_the_real_catalogue() -> None:
    registry = AffairRegistry(statutory_affairs())
    tokyo = Recipient(
        id="pref:13", name="東京都知事", kind=RecipientType.PREFECTURE, prefecture_code="13"
    )
    registry.register_recipient(tokyo)
    with pytest.raises(TableNotPermitted):  # 恩給 is a national body's affair (table 1) …
        registry.grant("pref:13", "T1-16", valid_from=START, granted_by="o:x", recorded_at=NOW)
    # … while the governor's own 恩給 affair is table 5 row 4.
    registry.grant("pref:13", "T5-4", valid_from=START, granted_by="o:x", recorded_at=NOW)
    assert registry.is_authorised("pref:13", "T5-4", START)
