"""The shipped statutory affairs (appended tables 1–5, 2012; 228 rows) and the seed recipients."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from datetime import UTC, date, datetime
from importlib import resources

import pytest

from jukinet.data.affairs import (
    AFFAIR_ITEM_OVERRIDES,
    SEED_RECIPIENTS,
    affairs_in_table,
    find_affairs,
    get_affair,
    item_policy,
    seed_registry,
    statutory_affairs,
)
from jukinet.domain.affairs import (
    DEFAULT_AFFAIR_ITEMS,
    AffairNotAuthorised,
    AffairOutOfScope,
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


def test_all_228_rows_load_with_unique_codes() -> None:
    affairs = statutory_affairs()
    raw = _raw_rows()
    assert len(raw) == 228
    assert len(affairs) == 228
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
    assert counts == {1: 134, 2: 13, 3: 32, 4: 12, 5: 37}
    assert [len(affairs_in_table(table)) for table in (1, 2, 3, 4, 5)] == [134, 13, 32, 12, 37]
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
        ("T1-110", "建築士法"),
        ("T1-112", "建築士法"),
        ("T1-122", "国家公務員災害補償法"),
        ("T3-2", "労働金庫法"),
        ("T3-3", "貸金業法"),
        ("T3-4", "恩給法"),
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
        get_affair("T1-1")  # well-formed, but table 1 row 1 is 削除 (deleted) in the 2012 text
    assert unknown.value.code == "JUKI-AFF-002"
    assert unknown.value.status == 404
    with pytest.raises(InvalidAffairCode):
        get_affair("T6-1")


def test_find_affairs_searches_wording_and_law_names() -> None:
    assert [a.code for a in find_affairs("電波法")] == ["T1-26"]
    assert [a.code for a in find_affairs("旅券法")] == ["T1-41", "T5-6"]
    assert {a.code for a in find_affairs("建設業法")} >= {"T1-97", "T3-17", "T5-21"}
    # The same statute across tables: national, other prefectures', the prefecture's own.
    assert [a.code for a in find_affairs("恩給法")] == ["T1-16", "T3-4", "T5-4"]
    assert [a.code for a in find_affairs("貸金業法")] == ["T1-9", "T3-3", "T5-3"]
    assert [a.code for a in find_affairs("労働金庫法")] == ["T1-1-5", "T3-2", "T5-2"]
    assert [a.code for a in find_affairs("建築士法")] == [
        "T1-109",
        "T1-110",
        "T1-111",
        "T1-112",
        "T3-26",
        "T5-31",
    ]
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


# The rows corrected on 2026-12-01 against the statute's text as published at the end of 2012
# (data/README.md): T1-109 restored whole, T1-110..112 and T3-2..4 added, T1-122 and T3-1 cleaned.
# Pinned word for word so that a regression to the damaged extraction shows at once.
CORRECTED_ROWS = {
    "T1-109": (
        "国土交通省",
        "建築士法（昭和二十五年法律第二百二号）による同法第四条第一項若しくは第三項の免許、"
        "同法第五条第一項の登録、同条第二項の交付、同法第五条の二第一項若しくは第二項若しくは"
        "第八条の二の届出、同法第九条第一項第一号の申請又は同法第十条の二第一項若しくは第二項の"
        "交付に関する事務であつて総務省令で定めるもの",
    ),
    "T1-110": (
        "建築士法第十条の四第一項に規定する中央指定登録機関",
        "建築士法による同法第十条の四第一項に規定する一級建築士等登録事務に関する事務であつて"
        "総務省令で定めるもの",
    ),
    "T1-111": (
        "建築士法第十条の二十第一項に規定する都道府県指定登録機関",
        "建築士法による同法第十条の二十第一項に規定する二級建築士等登録事務に関する事務であつて"
        "総務省令で定めるもの",
    ),
    "T1-112": (
        "建築士法第二十六条の三第一項に規定する指定事務所登録機関",
        "建築士法による同法第二十六条の三第一項に規定する事務所登録等事務に関する事務であつて"
        "総務省令で定めるもの",
    ),
    "T1-122": (
        "人事院若しくは国家公務員災害補償法（昭和二十六年法律第百九十一号）第三条第一項に規定する"
        "実施機関又は防衛省",
        "国家公務員災害補償法（防衛省の職員の給与等に関する法律（昭和二十七年法律第二百六十六号）"
        "において準用する場合を含む。）による公務上の災害若しくは通勤による災害に対する補償又は"
        "福祉事業の実施に関する事務であつて総務省令で定めるもの",
    ),
    "T3-1": (
        "都道府県知事",
        "特定非営利活動促進法による同法第十条第一項の認証、同法第二十三条第二項の届出又は同法"
        "第三十四条第三項の認証に関する事務であつて総務省令で定めるもの",
    ),
    "T3-2": (
        "都道府県知事",
        "労働金庫法による同法第八十九条の三第一項の許可又は同法第九十四条第三項において準用する"
        "銀行法第五十二条の三十九第一項の届出に関する事務であつて総務省令で定めるもの",
    ),
    "T3-3": (
        "都道府県知事",
        "貸金業法による同法第三条第一項の登録、同条第二項の更新又は同法第八条第一項の届出に関する"
        "事務であつて総務省令で定めるもの",
    ),
    "T3-4": (
        "都道府県知事",
        "恩給法（他の法律において準用する場合を含む。）による年金である給付の支給に関する事務で"
        "あつて総務省令で定めるもの",
    ),
}


@pytest.mark.parametrize("code", sorted(CORRECTED_ROWS))
def test_corrected_rows_carry_their_statutory_wording(code: str) -> None:
    recipient, wording = CORRECTED_ROWS[code]
    affair = get_affair(code)
    assert affair.recipient == recipient
    assert affair.affair == wording


def test_no_extraction_debris_in_any_row() -> None:
    # Every row of the 2012 tables is one sentence ending in the ordinance formula, written
    # without blanks. The damaged extraction broke each of these: a splice repeated the formula
    # (T3-1), glued a later row's recipient on after a blank (T1-109), and the next table's
    # heading trailed a row (T1-122 「 別表第」).
    for affair in statutory_affairs().values():
        assert affair.affair.endswith("に関する事務であつて総務省令で定めるもの"), affair.code
        assert affair.affair.count("総務省令で") == 1, affair.code
        assert re.search(r"\s", affair.affair + affair.recipient) is None, affair.code
        assert "別表" not in affair.affair + affair.recipient, affair.code


def _whole_rows_absent(table: int) -> tuple[int, ...]:
    rows = {affair.row for affair in affairs_in_table(table)}
    highest = max(int(row.split("-")[0]) for row in rows)
    return tuple(number for number in range(1, highest + 1) if str(number) not in rows)


def test_only_the_rows_deleted_by_the_act_are_absent() -> None:
    # Table 1 rows 1, 4, 6, 7, 10, 14 and 15 read 削除 (deleted) in the 2012 text; every other
    # row number up to each table's last is present.
    assert _whole_rows_absent(1) == (1, 4, 6, 7, 10, 14, 15)
    assert [_whole_rows_absent(table) for table in (2, 3, 4, 5)] == [(), (), (), ()]
    assert [a.row for a in affairs_in_table(1)][-14:] == [str(n) for n in range(109, 123)]
    assert [a.row for a in affairs_in_table(3)][:5] == ["1", "2", "3", "4", "5"]
    for code in ("T1-1", "T1-4", "T1-6", "T1-7", "T1-10", "T1-14", "T1-15"):
        with pytest.raises(UnknownAffair):
            get_affair(code)


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


def test_restored_table_3_row_reaches_only_other_prefectures() -> None:
    # T3-4 (恩給法, restored) lets a governor receive other prefectures' data for pensions; its
    # own residents' data stays under T5-4.
    registry = AffairRegistry(statutory_affairs())
    tokyo = Recipient(
        id="pref:13", name="東京都知事", kind=RecipientType.PREFECTURE, prefecture_code="13"
    )
    registry.register_recipient(tokyo)
    registry.grant("pref:13", "T3-4", valid_from=START, granted_by="o:x", recorded_at=NOW)
    granted = registry.authorise("pref:13", "T3-4", on=START, provider_prefecture_code="14")
    assert granted.affair.law_name == "恩給法"
    with pytest.raises(AffairOutOfScope):
        registry.authorise("pref:13", "T3-4", on=START, provider_prefecture_code="13")


def test_restored_table_1_rows_are_for_national_bodies_only() -> None:
    registry = AffairRegistry(statutory_affairs())
    body = Recipient(
        id="agency:kenchikushi-center",
        name="中央指定登録機関",
        kind=RecipientType.NATIONAL_BODY,
        body="建築士法第十条の四第一項に規定する中央指定登録機関",
    )
    tokyo = Recipient(
        id="pref:13", name="東京都知事", kind=RecipientType.PREFECTURE, prefecture_code="13"
    )
    registry.register_recipient(body)
    registry.register_recipient(tokyo)
    registry.grant(body.id, "T1-110", valid_from=START, granted_by="o:x", recorded_at=NOW)
    assert registry.authorise(body.id, "T1-110", on=START).affair.law_name == "建築士法"
    with pytest.raises(TableNotPermitted):
        registry.grant("pref:13", "T1-111", valid_from=START, granted_by="o:x", recorded_at=NOW)
