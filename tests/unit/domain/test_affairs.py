"""Statutory affairs, recipients, item policy and the append-only affair registry — no I/O."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jukinet.domain.affairs import (
    BASIC_ITEMS,
    DEFAULT_AFFAIR_ITEMS,
    AffairNotAuthorised,
    AffairOutOfScope,
    AffairRegistry,
    BodyNotNamed,
    DuplicateAffairCode,
    DuplicateGrant,
    EntryKind,
    IdentityItem,
    InvalidAffairCode,
    InvalidItemPolicy,
    InvalidRecipient,
    InvalidRegistryEntry,
    InvalidStatutoryAffair,
    InvalidValidityPeriod,
    ItemPolicy,
    NothingToRevoke,
    OutOfOrderEntry,
    Recipient,
    RecipientConflict,
    RecipientKind,
    RecipientType,
    RegistryEntry,
    RetroactiveRevocation,
    StatutoryAffair,
    TableNotPermitted,
    UnknownAffair,
    UnknownRecipient,
    ValidityPeriod,
    affair_code,
    extract_law_name,
    index_affairs,
    parse_affair_code,
)
from jukinet.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError

JST = timezone(timedelta(hours=9))
D0 = date(2026, 4, 1)
#: Midnight of D0 in Japan: revocations effective on D0 or later are not retroactive.
T0 = datetime(2026, 4, 1, 0, 0, tzinfo=JST)

# Real statutory wording (別表, as amended to 2012), a handful of rows across the tables.
ONKYU = "恩給法（大正十二年法律第四十八号。他の法律において準用する場合を含む。）による年金である給付の支給に関する事務であつて総務省令で定めるもの"  # noqa: E501
DENPA = "電波法（昭和二十五年法律第百三十一号）による同法第四条の免許に関する事務であつて総務省令で定めるもの"  # noqa: E501
GINKO = "銀行法（昭和五十六年法律第五十九号）による同法第五十二条の三十六第一項の許可に関する事務であつて総務省令で定めるもの"  # noqa: E501
NPO = "特定非営利活動促進法（平成十年法律第七号）による同法第十条第一項の認証に関する事務であつて総務省令で定めるもの"  # noqa: E501
SENKYO = "同一都道府県の区域内の他の市町村の区域内に住所を移した選挙人が従前の市町村において当該都道府県の議会の議員又は長の選挙の投票をする場合において公職選挙法第四十四条第三項の規定により提示することとされている文書の交付に関する事務であつて総務省令で定めるもの"  # noqa: E501
KENSETSU = "建設業法による建設業の許可に関する事務であつて総務省令で定めるもの"
FUKUSHIMA = "福島復興再生特別措置法による同法第二十六条の健康管理調査の実施に関する事務であつて総務省令で定めるもの"  # noqa: E501
KASHIKIN = "貸金業法による同法第三条第一項の登録に関する事務であつて総務省令で定めるもの"


def _affair(table: int, row: str, recipient: str, text: str) -> StatutoryAffair:
    return StatutoryAffair.from_statute(table=table, row=row, recipient=recipient, affair=text)


CATALOGUE = index_affairs(
    [
        _affair(1, "1-2", "金融庁又は財務省", GINKO),
        _affair(1, "16", "総務省", ONKYU),
        _affair(1, "26", "総務省", DENPA),
        _affair(2, "1-2", "市町村長", SENKYO),
        _affair(3, "17", "都道府県知事", KENSETSU),
        _affair(3, "29", "福島県知事", FUKUSHIMA),
        _affair(4, "1", "指定都市の長", NPO),
        _affair(5, "3", "都道府県知事", KASHIKIN),
    ]
)

ONKYU_BODY = Recipient(
    id="agency:soumu-onkyu",
    name="総務省（恩給）",
    # Text, as a stored row gives it: the constructor turns it into RecipientType.
    kind="national_body",  # type: ignore[arg-type]
    body="総務省",
)
DENPA_BODY = Recipient(
    id="agency:soumu-denpa", name="総務省（電波）", kind=RecipientType.NATIONAL_BODY, body="総務省"
)
TOKYO = Recipient(
    id="pref:13", name="東京都知事", kind=RecipientType.PREFECTURE, prefecture_code="13"
)
FUKUSHIMA_PREF = Recipient(
    id="pref:07", name="福島県知事", kind=RecipientType.PREFECTURE, prefecture_code="07"
)
YOKOHAMA = Recipient(
    id="muni:141003",
    name="横浜市長",
    kind=RecipientType.MUNICIPAL_ORGAN,
    prefecture_code="14",
    municipality_code="１４１００３",
)


def _registry() -> AffairRegistry:
    return AffairRegistry(
        CATALOGUE, recipients=[ONKYU_BODY, DENPA_BODY, TOKYO, FUKUSHIMA_PREF, YOKOHAMA]
    )


def _grant(
    registry: AffairRegistry,
    recipient_id: str,
    code: str,
    start: date = D0,
    until: date | None = None,
) -> RegistryEntry:
    return registry.grant(
        recipient_id,
        code,
        valid_from=start,
        valid_until=until,
        granted_by="officer:yamada",
        recorded_at=T0,
    )


# -- codes -------------------------------------------------------------------------------------


def test_code_scheme_is_table_then_row() -> None:
    assert affair_code(1, "16") == "T1-16"
    assert affair_code(1, "1-2") == "T1-1-2"
    assert affair_code(5, "3") == "T5-3"
    assert [a.code for a in CATALOGUE.values()] == [
        "T1-1-2", "T1-16", "T1-26", "T2-1-2", "T3-17", "T3-29", "T4-1", "T5-3",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("T1-16", "T1-16"),
        ("t1-16", "T1-16"),
        ("Ｔ１－１６", "T1-16"),
        (" T1-1-2 ", "T1-1-2"),
        ("T1-016", "T1-16"),
        ("T5-26-3", "T5-26-3"),
    ],
)
def test_parse_affair_code_canonicalises(raw: str, canonical: str) -> None:
    assert parse_affair_code(raw) == canonical


@pytest.mark.parametrize(
    "raw", ["", "T", "T0-1", "T6-1", "T1-", "T1-0", "T1-1-0", "1-16", "T1_16", "T1-16a", "T1--2"]
)
def test_parse_affair_code_refuses_malformed(raw: str) -> None:
    with pytest.raises(InvalidAffairCode) as caught:
        parse_affair_code(raw)
    assert caught.value.code == "JUKI-AFF-003"
    assert caught.value.field == "affair_code"


@given(
    table=st.integers(1, 5),
    parts=st.lists(st.integers(1, 300), min_size=1, max_size=3),
)
def test_codes_round_trip(table: int, parts: list[int]) -> None:
    row = "-".join(str(part) for part in parts)
    code = affair_code(table, row)
    assert parse_affair_code(code) == code
    assert parse_affair_code(code.lower()) == code


# -- law names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "law"),
    [
        (ONKYU, "恩給法"),
        (DENPA, "電波法"),
        (KENSETSU, "建設業法"),
        (
            "協同組合による金融事業に関する法律（昭和二十四年法律第百八十三号）による同法第六条の三",
            "協同組合による金融事業に関する法律",
        ),
        (
            "地方公務員等共済組合法の一部を改正する法律附則第二十三条第一項第一号又は第二号",
            "地方公務員等共済組合法の一部を改正する法律",
        ),
        ("旅行業法第二十四条の規定により都道府県知事が行うこととされた事務", "旅行業法"),
        (
            "国家公務員災害補償法（防衛省の職員の給与等に関する法律（昭和二十七年法律第二百六十六号）"
            "において準用する場合を含む。）による公務上の災害",
            "国家公務員災害補償法",
        ),
        (
            "旧令による共済組合等からの年金受給者のための特別措置法（昭和二十五年法律第二百五十六号）",
            "旧令による共済組合等からの年金受給者のための特別措置法",
        ),
        (SENKYO, None),
        ("選挙人に当該都道府県の議会の議員又は長の選挙の公職選挙法第四十八条の二", None),
        ("総務省令で定めるもの", None),
        ("", None),
    ],
)
def test_extract_law_name(text: str, law: str | None) -> None:
    assert extract_law_name(text) == law


# -- statutory affairs -------------------------------------------------------------------------


def test_from_statute_derives_code_law_and_kind() -> None:
    onkyu = CATALOGUE["T1-16"]
    assert onkyu == StatutoryAffair(
        code="T1-16",
        table=1,
        row="16",
        recipient="総務省",
        affair=ONKYU,
        law_name="恩給法",
        recipient_kind=RecipientKind.NATIONAL_BODY,
    )
    assert onkyu.citation_ja == "別表第一の十六の項"
    assert CATALOGUE["T1-1-2"].citation_ja == "別表第一の一の二の項"
    assert CATALOGUE["T1-1-2"].citation_en == "Appended Table 1, row 1-2"
    assert _affair(1, "122", "x", "y").citation_ja == "別表第一の百二十二の項"
    assert _affair(1, "57-3", "x", "y").citation_ja == "別表第一の五十七の三の項"
    assert _affair(1, "210", "x", "y").citation_ja == "別表第一の二百十の項"
    assert CATALOGUE["T3-29"].named_prefecture_code == "07"
    assert CATALOGUE["T3-17"].named_prefecture_code is None
    assert CATALOGUE["T1-16"].sort_key < CATALOGUE["T1-26"].sort_key
    assert CATALOGUE["T1-1-2"].sort_key < CATALOGUE["T1-16"].sort_key


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"table": 6}, "table"),
        ({"table": 0}, "table"),
        ({"row": "1-"}, "row"),
        ({"row": "01"}, "row"),
        ({"row": "一"}, "row"),
        ({"recipient": " "}, "recipient"),
        ({"affair": ""}, "affair"),
    ],
)
def test_malformed_rows_are_refused(changes: dict[str, object], field: str) -> None:
    values: dict[str, object] = {"table": 1, "row": "16", "recipient": "総務省", "affair": ONKYU}
    values.update(changes)
    with pytest.raises(InvalidStatutoryAffair) as caught:
        StatutoryAffair.from_statute(**values)  # type: ignore[arg-type]
    assert caught.value.code == "JUKI-AFF-015"
    assert caught.value.field == field


def test_inconsistent_code_or_kind_is_refused() -> None:
    onkyu = CATALOGUE["T1-16"]
    with pytest.raises(InvalidStatutoryAffair, match="code"):
        dataclasses.replace(onkyu, code="T1-17")
    with pytest.raises(InvalidStatutoryAffair, match="kind"):
        dataclasses.replace(onkyu, recipient_kind=RecipientKind.PREFECTURE_ITSELF)


def test_duplicate_codes_are_refused_not_resolved() -> None:
    twice = [CATALOGUE["T1-16"], _affair(1, "16", "総務省", DENPA)]
    with pytest.raises(DuplicateAffairCode) as caught:
        index_affairs(twice)
    assert caught.value.code == "JUKI-AFF-014"
    assert isinstance(caught.value, Conflict)
    assert "T1-16" in caught.value.message_en


def test_recipient_kinds_follow_the_tables() -> None:
    expected = {
        1: (RecipientType.NATIONAL_BODY, None),
        2: (RecipientType.MUNICIPAL_ORGAN, True),
        3: (RecipientType.PREFECTURE, False),
        4: (RecipientType.MUNICIPAL_ORGAN, False),
        5: (RecipientType.PREFECTURE, True),
    }
    for table, (recipient_type, same) in expected.items():
        kind = RecipientKind.for_table(table)
        assert kind.table == table
        assert kind.recipient_type is recipient_type
        assert kind.same_prefecture is same
        assert kind.label_ja
        assert kind.label_en
    assert RecipientKind.for_table(2).label_en == "municipal organ in the prefecture"
    assert RecipientKind.for_table(5).label_ja == "都道府県知事（自らの利用）"
    with pytest.raises(ValueError, match="no appended table"):
        RecipientKind.for_table(6)


# -- recipients --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"id": "Agency:X", "name": "x", "kind": "national_body"}, "id"),
        ({"id": "agency", "name": "x", "kind": "national_body"}, "id"),
        ({"id": "agency:" + "x" * 60, "name": "x", "kind": "national_body"}, "id"),
        ({"id": "agency:x", "name": " ", "kind": "national_body"}, "name"),
        ({"id": "agency:x", "name": "x", "kind": "company"}, "kind"),
        (
            {"id": "agency:x", "name": "x", "kind": "national_body", "prefecture_code": "13"},
            "prefecture_code",
        ),
        ({"id": "pref:x", "name": "x", "kind": "prefecture"}, "prefecture_code"),
        (
            {"id": "pref:x", "name": "x", "kind": "prefecture", "prefecture_code": "48"},
            "prefecture_code",
        ),
        (
            {
                "id": "pref:x",
                "name": "x",
                "kind": "prefecture",
                "prefecture_code": "13",
                "municipality_code": "131016",
            },
            "municipality_code",
        ),
        (
            {
                "id": "muni:x",
                "name": "x",
                "kind": "municipal_organ",
                "prefecture_code": "13",
                "municipality_code": "141003",
            },
            "municipality_code",
        ),
    ],
)
def test_malformed_recipients_are_refused(kwargs: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidRecipient) as caught:
        Recipient(**kwargs)  # type: ignore[arg-type]
    assert caught.value.code == "JUKI-AFF-010"
    assert caught.value.field == field


def test_recipient_normalises_kind_and_municipality_code() -> None:
    assert ONKYU_BODY.kind is RecipientType.NATIONAL_BODY
    assert YOKOHAMA.municipality_code == "141003"
    with pytest.raises(ValidationError) as caught:
        Recipient(
            id="muni:x",
            name="x",
            kind=RecipientType.MUNICIPAL_ORGAN,
            prefecture_code="13",
            municipality_code="131017",
        )
    assert caught.value.code == "JUKI-MUNI-002"


def test_table_rule_matches_recipient_type_to_table() -> None:
    national, prefecture, municipal = ONKYU_BODY, TOKYO, YOKOHAMA
    allowed = {
        "T1-16": {national},
        "T2-1-2": {municipal},
        "T3-17": {prefecture},
        "T4-1": {municipal},
        "T5-3": {prefecture},
    }
    for code, who in allowed.items():
        for recipient in (national, prefecture, municipal):
            assert recipient.may_use(CATALOGUE[code]) is (recipient in who), (code, recipient.id)


def test_a_row_naming_one_governor_is_only_for_that_prefecture() -> None:
    assert FUKUSHIMA_PREF.may_use(CATALOGUE["T3-29"])
    assert not TOKYO.may_use(CATALOGUE["T3-29"])


def test_scope_rule_own_or_other_prefecture() -> None:
    assert TOKYO.may_receive_from(CATALOGUE["T5-3"], "13")
    assert not TOKYO.may_receive_from(CATALOGUE["T5-3"], "14")
    assert TOKYO.may_receive_from(CATALOGUE["T3-17"], "14")
    assert not TOKYO.may_receive_from(CATALOGUE["T3-17"], "13")
    assert YOKOHAMA.may_receive_from(CATALOGUE["T2-1-2"], "14")
    assert not YOKOHAMA.may_receive_from(CATALOGUE["T4-1"], "14")
    assert ONKYU_BODY.may_receive_from(CATALOGUE["T1-16"], "47")


# -- items -------------------------------------------------------------------------------------


def test_default_items_are_all_six() -> None:
    assert set(DEFAULT_AFFAIR_ITEMS) == set(IdentityItem)
    assert len(DEFAULT_AFFAIR_ITEMS) == 6
    assert BASIC_ITEMS < DEFAULT_AFFAIR_ITEMS
    assert IdentityItem.RESIDENT_CODE not in BASIC_ITEMS
    assert IdentityItem.CHANGE_INFO.label_ja == "変更情報"
    assert IdentityItem.RESIDENT_CODE.label_en == "resident code"
    assert ItemPolicy().items_for("T1-16") == DEFAULT_AFFAIR_ITEMS


def test_items_can_be_overridden_per_affair() -> None:
    policy = ItemPolicy(overrides={"ｔ１-２６": BASIC_ITEMS})
    assert policy.items_for("T1-26") == BASIC_ITEMS
    assert policy.items_for("T1-16") == DEFAULT_AFFAIR_ITEMS
    narrower = policy.with_override("T1-16", [IdentityItem.ADDRESS, IdentityItem.CHANGE_INFO])
    assert narrower.items_for("T1-16") == {IdentityItem.ADDRESS, IdentityItem.CHANGE_INFO}
    assert narrower.items_for("T1-26") == BASIC_ITEMS
    assert policy.items_for("T1-16") == DEFAULT_AFFAIR_ITEMS  # the original is unchanged
    with pytest.raises(TypeError):
        policy.overrides["T1-16"] = BASIC_ITEMS  # type: ignore[index]


def test_item_policy_refuses_empty_sets_and_unknown_codes() -> None:
    with pytest.raises(InvalidItemPolicy) as caught:
        ItemPolicy(overrides={"T1-16": frozenset()})
    assert caught.value.code == "JUKI-AFF-016"
    with pytest.raises(InvalidItemPolicy):
        ItemPolicy(default=frozenset())
    with pytest.raises(UnknownAffair):
        AffairRegistry(CATALOGUE, items=ItemPolicy(overrides={"T1-99": BASIC_ITEMS}))


# -- the registry ------------------------------------------------------------------------------


def test_grant_then_authorise_gives_the_affairs_items() -> None:
    registry = AffairRegistry(
        CATALOGUE,
        recipients=[ONKYU_BODY],
        items=ItemPolicy(overrides={"T1-16": BASIC_ITEMS | {IdentityItem.CHANGE_INFO}}),
    )
    entry = _grant(registry, ONKYU_BODY.id, "t1-16")
    assert entry.sequence == 1
    assert entry.kind is EntryKind.GRANT
    assert entry.affair_code == "T1-16"
    assert entry.decided_by == "officer:yamada"
    granted = registry.authorise(ONKYU_BODY.id, "T1-16", on=D0)
    assert granted.recipient == ONKYU_BODY
    assert granted.affair is CATALOGUE["T1-16"]
    assert granted.items == BASIC_ITEMS | {IdentityItem.CHANGE_INFO}
    assert granted.ordered_items == (
        IdentityItem.NAME,
        IdentityItem.BIRTH_DATE,
        IdentityItem.SEX,
        IdentityItem.ADDRESS,
        IdentityItem.CHANGE_INFO,
    )


def test_unauthorised_affair_is_refused_naming_the_affair() -> None:
    registry = _registry()
    _grant(registry, ONKYU_BODY.id, "T1-16")
    with pytest.raises(AffairNotAuthorised) as caught:
        registry.authorise(ONKYU_BODY.id, "T1-26", on=D0)
    error = caught.value
    assert isinstance(error, PermissionDenied)
    assert error.status == 403
    assert error.code == "JUKI-AFF-001"
    assert error.affair_code == "T1-26"
    assert error.recipient_id == "agency:soumu-onkyu"
    assert error.message_ja.startswith(
        "業務 T1-26 は受領者 agency:soumu-onkyu に認められていません"
    )
    assert error.message_en.startswith(
        "affair T1-26 is not authorised for recipient agency:soumu-onkyu"
    )
    assert error.as_dict()["field"] == "affair_code"
    # Before the grant starts, too.
    with pytest.raises(AffairNotAuthorised):
        registry.authorise(ONKYU_BODY.id, "T1-16", on=D0 - timedelta(days=1))


def test_unknown_and_malformed_affairs_and_recipients_have_their_own_codes() -> None:
    registry = _registry()
    with pytest.raises(UnknownAffair) as unknown:
        registry.authorise(ONKYU_BODY.id, "T1-17", on=D0)
    assert unknown.value.code == "JUKI-AFF-002"
    assert isinstance(unknown.value, NotFound)
    assert "T1-17" in unknown.value.message_ja
    with pytest.raises(InvalidAffairCode):
        registry.authorise(ONKYU_BODY.id, "onkyu", on=D0)
    with pytest.raises(UnknownRecipient) as nobody:
        registry.authorise("agency:nobody", "T1-16", on=D0)
    assert nobody.value.code == "JUKI-AFF-004"
    with pytest.raises(UnknownRecipient):
        _grant(registry, "agency:nobody", "T1-16")
    with pytest.raises(UnknownAffair):
        _grant(registry, ONKYU_BODY.id, "T1-99")
    with pytest.raises(UnknownRecipient):
        registry.history("agency:nobody")
    assert not registry.is_authorised("agency:nobody", "T1-16", D0)
    assert not registry.is_authorised(ONKYU_BODY.id, "nonsense", D0)


def test_grants_must_fit_the_table_rule() -> None:
    registry = _registry()
    with pytest.raises(TableNotPermitted) as caught:
        _grant(registry, TOKYO.id, "T1-16")
    assert caught.value.code == "JUKI-AFF-005"
    assert "T1-16" in caught.value.message_en
    assert "別表第一の十六の項" in caught.value.message_ja
    with pytest.raises(TableNotPermitted):
        _grant(registry, ONKYU_BODY.id, "T5-3")
    with pytest.raises(TableNotPermitted):
        _grant(registry, YOKOHAMA.id, "T3-17")
    with pytest.raises(TableNotPermitted):
        _grant(registry, TOKYO.id, "T3-29")  # 福島県知事 only
    assert registry.entries == ()
    _grant(registry, FUKUSHIMA_PREF.id, "T3-29")
    _grant(registry, TOKYO.id, "T5-3")
    _grant(registry, YOKOHAMA.id, "T4-1")
    assert len(registry.entries) == 3


def test_scope_is_checked_against_the_providing_prefecture() -> None:
    registry = _registry()
    _grant(registry, TOKYO.id, "T5-3")
    _grant(registry, TOKYO.id, "T3-17")
    assert registry.authorise(TOKYO.id, "T5-3", on=D0, provider_prefecture_code="13")
    assert registry.authorise(TOKYO.id, "T3-17", on=D0, provider_prefecture_code="27")
    with pytest.raises(AffairOutOfScope) as caught:
        registry.authorise(TOKYO.id, "T5-3", on=D0, provider_prefecture_code="27")
    assert caught.value.code == "JUKI-AFF-006"
    assert caught.value.status == 403
    with pytest.raises(AffairOutOfScope):
        registry.authorise(TOKYO.id, "T3-17", on=D0, provider_prefecture_code="13")


def test_validity_is_half_open_and_revocation_ends_it() -> None:
    registry = _registry()
    _grant(registry, ONKYU_BODY.id, "T1-16", D0, D0 + timedelta(days=10))
    assert registry.is_authorised(ONKYU_BODY.id, "T1-16", D0)
    assert registry.is_authorised(ONKYU_BODY.id, "T1-16", D0 + timedelta(days=9))
    assert not registry.is_authorised(ONKYU_BODY.id, "T1-16", D0 + timedelta(days=10))
    _grant(registry, ONKYU_BODY.id, "T1-16", D0 + timedelta(days=10))  # extended, open-ended
    assert registry.periods(ONKYU_BODY.id, "T1-16") == (ValidityPeriod(D0, None),)
    revocation = registry.revoke(
        ONKYU_BODY.id,
        "T1-16",
        effective_from=D0 + timedelta(days=30),
        revoked_by="officer:sato",
        recorded_at=T0 + timedelta(days=1),
        reason="担当課の廃止",
    )
    assert revocation.kind is EntryKind.REVOKE
    assert revocation.sequence == 3
    assert revocation.valid_until is None
    assert registry.is_authorised(ONKYU_BODY.id, "T1-16", D0 + timedelta(days=29))
    assert not registry.is_authorised(ONKYU_BODY.id, "T1-16", D0 + timedelta(days=30))
    assert not registry.is_authorised(ONKYU_BODY.id, "T1-16", date(2099, 1, 1))
    assert registry.periods(ONKYU_BODY.id, "T1-16") == (
        ValidityPeriod(D0, D0 + timedelta(days=30)),
    )
    # As the registry stood after the first entry only.
    assert registry.periods(ONKYU_BODY.id, "T1-16", as_of_sequence=1) == (
        ValidityPeriod(D0, D0 + timedelta(days=10)),
    )
    assert not registry.is_authorised(
        ONKYU_BODY.id, "T1-16", D0 + timedelta(days=20), as_of_sequence=1
    )
    assert registry.is_authorised(ONKYU_BODY.id, "T1-16", D0 + timedelta(days=20), as_of_sequence=2)
    assert not registry.is_authorised(ONKYU_BODY.id, "T1-16", D0, as_of_sequence=0)


def test_history_says_who_may_use_what_from_when() -> None:
    registry = _registry()
    _grant(registry, ONKYU_BODY.id, "T1-16")
    _grant(registry, DENPA_BODY.id, "T1-26", D0 + timedelta(days=5))
    registry.revoke(
        ONKYU_BODY.id,
        "T1-16",
        effective_from=D0 + timedelta(days=60),
        revoked_by="officer:sato",
        recorded_at=T0,
    )
    history = registry.history(ONKYU_BODY.id)
    assert [(e.sequence, e.kind, e.affair_code, e.valid_from, e.decided_by) for e in history] == [
        (1, EntryKind.GRANT, "T1-16", D0, "officer:yamada"),
        (3, EntryKind.REVOKE, "T1-16", D0 + timedelta(days=60), "officer:sato"),
    ]
    assert registry.history(TOKYO.id) == ()
    assert [a.code for a in registry.affairs_for(ONKYU_BODY.id, D0)] == ["T1-16"]
    assert registry.affairs_for(DENPA_BODY.id, D0) == ()
    assert registry.holders("T1-26", D0 + timedelta(days=5)) == (DENPA_BODY.id,)
    assert registry.holders("T1-16", D0 + timedelta(days=60)) == ()


def test_entries_are_never_edited() -> None:
    registry = _registry()
    first = _grant(registry, ONKYU_BODY.id, "T1-16")
    before = registry.entries
    registry.revoke(
        ONKYU_BODY.id, "T1-16", effective_from=D0, revoked_by="officer:sato", recorded_at=T0
    )
    assert registry.entries[: len(before)] == before
    assert registry.entries[0] is first
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.valid_until = D0  # type: ignore[misc]
    assert isinstance(registry.entries, tuple)


def test_bad_grants_and_revocations_are_refused() -> None:
    registry = _registry()
    with pytest.raises(InvalidValidityPeriod) as period:
        _grant(registry, ONKYU_BODY.id, "T1-16", D0, D0)
    assert period.value.code == "JUKI-AFF-007"
    with pytest.raises(NothingToRevoke) as nothing:
        registry.revoke(
            ONKYU_BODY.id, "T1-16", effective_from=D0, revoked_by="officer:sato", recorded_at=T0
        )
    assert nothing.value.code == "JUKI-AFF-008"
    _grant(registry, ONKYU_BODY.id, "T1-16", D0, D0 + timedelta(days=5))
    with pytest.raises(NothingToRevoke):  # the grant has already ended by then
        registry.revoke(
            ONKYU_BODY.id,
            "T1-16",
            effective_from=D0 + timedelta(days=5),
            revoked_by="officer:sato",
            recorded_at=T0,
        )
    with pytest.raises(RetroactiveRevocation) as retro:
        registry.revoke(
            ONKYU_BODY.id,
            "T1-16",
            effective_from=D0 + timedelta(days=1),
            revoked_by="officer:sato",
            recorded_at=T0 + timedelta(days=2),
        )
    assert retro.value.code == "JUKI-AFF-009"
    # 2026-04-01 15:30 UTC is already 2 April in Japan.
    with pytest.raises(RetroactiveRevocation):
        registry.revoke(
            ONKYU_BODY.id,
            "T1-16",
            effective_from=D0 + timedelta(days=1),
            revoked_by="officer:sato",
            recorded_at=datetime(2026, 4, 2, 15, 30, tzinfo=UTC),
        )
    for bad in ("", "  ", "x" * 101):
        with pytest.raises(InvalidRegistryEntry) as who:
            registry.grant(ONKYU_BODY.id, "T1-16", valid_from=D0, granted_by=bad, recorded_at=T0)
        assert who.value.code == "JUKI-AFF-012"
        assert who.value.field == "decided_by"
    with pytest.raises(InvalidRegistryEntry) as naive:
        registry.grant(
            ONKYU_BODY.id,
            "T1-16",
            valid_from=D0,
            granted_by="officer:yamada",
            recorded_at=datetime(2026, 4, 1, 9, 0),
        )
    assert naive.value.field == "recorded_at"
    with pytest.raises(InvalidRegistryEntry):
        registry.grant(
            ONKYU_BODY.id,
            "T1-16",
            valid_from=D0,
            granted_by="officer:yamada",
            recorded_at=T0,
            reason="x" * 501,
        )
    with pytest.raises(OutOfOrderEntry) as backwards:
        registry.grant(
            ONKYU_BODY.id,
            "T1-16",
            valid_from=D0,
            granted_by="officer:yamada",
            recorded_at=T0 - timedelta(seconds=1),
        )
    assert backwards.value.code == "JUKI-AFF-013"
    assert len(registry.entries) == 1  # nothing refused was written


def test_recipients_register_once() -> None:
    registry = AffairRegistry(CATALOGUE)
    registry.register_recipient(ONKYU_BODY)
    registry.register_recipient(ONKYU_BODY)  # the same again: no change
    with pytest.raises(RecipientConflict) as caught:
        registry.register_recipient(dataclasses.replace(ONKYU_BODY, name="別の名称"))
    assert caught.value.code == "JUKI-AFF-011"
    assert registry.recipients == {ONKYU_BODY.id: ONKYU_BODY}
    with pytest.raises(TypeError):
        registry.recipients["x"] = ONKYU_BODY  # type: ignore[index]


def test_a_stored_registry_replays_to_the_same_answers() -> None:
    registry = _registry()
    _grant(registry, ONKYU_BODY.id, "T1-16")
    _grant(registry, TOKYO.id, "T5-3", D0, D0 + timedelta(days=3))
    registry.revoke(
        ONKYU_BODY.id,
        "T1-16",
        effective_from=D0 + timedelta(days=2),
        revoked_by="officer:sato",
        recorded_at=T0,
    )
    rebuilt = AffairRegistry(
        CATALOGUE, recipients=registry.recipients.values(), entries=registry.entries
    )
    assert rebuilt.entries == registry.entries
    for day in range(6):
        on = D0 + timedelta(days=day)
        for rid, code in ((ONKYU_BODY.id, "T1-16"), (TOKYO.id, "T5-3")):
            assert rebuilt.is_authorised(rid, code, on) == registry.is_authorised(rid, code, on)
    gap = dataclasses.replace(registry.entries[1], sequence=5)
    with pytest.raises(OutOfOrderEntry):
        AffairRegistry(
            CATALOGUE,
            recipients=registry.recipients.values(),
            entries=[registry.entries[0], gap],
        )
    # A stored entry that breaks a rule is caught on replay, too.
    forged = dataclasses.replace(registry.entries[0], recipient_id=TOKYO.id)
    with pytest.raises(TableNotPermitted):
        AffairRegistry(CATALOGUE, recipients=registry.recipients.values(), entries=[forged])


# -- registry vs a simple model ----------------------------------------------------------------

PAIRS = [(ONKYU_BODY.id, "T1-16"), (ONKYU_BODY.id, "T1-26"), (DENPA_BODY.id, "T1-26")]
HORIZON = 120  # model days; every operation below stays well inside it
CHECK_DAYS = range(0, 80)

grant_ops = st.tuples(
    st.just("grant"),
    st.sampled_from(PAIRS),
    st.integers(0, 50),
    st.one_of(st.none(), st.integers(1, 25)),
)
revoke_ops = st.tuples(st.just("revoke"), st.sampled_from(PAIRS), st.integers(0, 60), st.just(None))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(grant_ops, revoke_ops), max_size=25))
def test_registry_agrees_with_a_set_of_days_model(
    ops: list[tuple[str, tuple[str, str], int, int | None]],
) -> None:
    registry = AffairRegistry(CATALOGUE, recipients=[ONKYU_BODY, DENPA_BODY])
    model: dict[tuple[str, str], set[int]] = {pair: set() for pair in PAIRS}
    snapshots: list[dict[tuple[str, str], set[int]]] = [{pair: set() for pair in PAIRS}]
    for kind, pair, day, length in ops:
        recipient_id, code = pair
        start = D0 + timedelta(days=day)
        written = registry.entries
        if kind == "grant":
            end = HORIZON if length is None else day + length
            if model[pair] & set(range(day, end)):
                with pytest.raises(DuplicateGrant):
                    registry.grant(
                        recipient_id,
                        code,
                        valid_from=start,
                        valid_until=None if length is None else start + timedelta(days=length),
                        granted_by="officer:yamada",
                        recorded_at=T0,
                    )
                assert registry.entries == written
                continue
            registry.grant(
                recipient_id,
                code,
                valid_from=start,
                valid_until=None if length is None else start + timedelta(days=length),
                granted_by="officer:yamada",
                recorded_at=T0,
            )
            model[pair] = model[pair] | set(range(day, end))
        elif not any(d >= day for d in model[pair]):
            with pytest.raises(NothingToRevoke):
                registry.revoke(
                    recipient_id,
                    code,
                    effective_from=start,
                    revoked_by="officer:sato",
                    recorded_at=T0,
                )
            assert registry.entries == written
            continue
        else:
            registry.revoke(
                recipient_id, code, effective_from=start, revoked_by="officer:sato", recorded_at=T0
            )
            model[pair] = {d for d in model[pair] if d < day}
        # Append-only: exactly one entry more, and what was written before is unchanged.
        assert registry.entries[:-1] == written
        assert registry.entries[-1].sequence == len(written) + 1
        snapshots.append(dict(model))
    for pair, days in model.items():
        periods = registry.periods(*pair)
        for day in CHECK_DAYS:
            on = D0 + timedelta(days=day)
            assert registry.is_authorised(*pair, on) == (day in days), (pair, day)
            # The merged periods describe exactly the same days.
            assert any(p.contains(on) for p in periods) == (day in days)
        assert all(a.end is not None and a.end < b.start for a, b in itertools.pairwise(periods))
    # The registry as it stood after each entry answers as the model did then.
    for sequence, snapshot in enumerate(snapshots):
        for pair, days in snapshot.items():
            for day in range(0, 80, 7):
                on = D0 + timedelta(days=day)
                assert registry.is_authorised(*pair, on, as_of_sequence=sequence) == (day in days)


# -- the body the Act names, duplicates and the legal basis (issue 11, finding 9) -------------


def test_a_table_1_affair_goes_only_to_a_body_its_row_names() -> None:
    mlit = Recipient(
        id="agency:mlit", name="国土交通省", kind=RecipientType.NATIONAL_BODY, body="国土交通省"
    )
    unnamed = Recipient(id="agency:anon", name="名無し", kind=RecipientType.NATIONAL_BODY)
    registry = AffairRegistry(CATALOGUE, recipients=[mlit, unnamed, ONKYU_BODY])
    for recipient_id in (mlit.id, unnamed.id):
        with pytest.raises(BodyNotNamed) as caught:
            _grant(registry, recipient_id, "T1-16")
        assert caught.value.code == "JUKI-AFF-017"
        assert "総務省" in caught.value.message_en
    assert registry.entries == ()
    assert _grant(registry, ONKYU_BODY.id, "T1-16").recipient_id == ONKYU_BODY.id


def test_each_body_of_a_row_naming_several_may_be_granted() -> None:
    row = _affair(1, "1-5", "金融庁若しくは財務省又は厚生労働省", ONKYU)
    assert row.bodies == ("金融庁", "財務省", "厚生労働省")
    pension = _affair(1, "50", "厚生労働省及び日本年金機構並びに全国健康保険協会", ONKYU)
    assert pension.bodies == ("厚生労働省", "日本年金機構", "全国健康保険協会")


def test_a_grant_overlapping_one_held_is_refused_and_nothing_is_written() -> None:
    registry = _registry()
    _grant(registry, ONKYU_BODY.id, "T1-16", start=D0, until=D0 + timedelta(days=30))
    before = registry.entries
    for start, until in (
        (D0, None),
        (D0 + timedelta(days=29), None),
        (D0 - timedelta(days=5), D0 + timedelta(days=1)),
    ):
        with pytest.raises(DuplicateGrant) as caught:
            _grant(registry, ONKYU_BODY.id, "T1-16", start=start, until=until)
        assert caught.value.code == "JUKI-AFF-018"
    assert registry.entries == before
    # The days after the grant ends are free: a renewal from then on is a new decision.
    _grant(registry, ONKYU_BODY.id, "T1-16", start=D0 + timedelta(days=30))
    assert len(registry.entries) == 2


def test_a_grant_records_the_acts_row_and_the_deciding_document() -> None:
    registry = _registry()
    entry = registry.grant(
        ONKYU_BODY.id,
        "T1-16",
        valid_from=D0,
        granted_by="officer:yamada",
        recorded_at=T0,
        decision="総行住第42号",
    )
    assert entry.legal_basis == "住民基本台帳法別表第一の十六の項（恩給法）"
    assert entry.decision == "総行住第42号"
    rebuilt = AffairRegistry(CATALOGUE, recipients=[ONKYU_BODY], entries=registry.entries)
    assert rebuilt.entries[0].legal_basis == entry.legal_basis


def test_a_recipient_registered_without_a_body_may_have_it_named_once() -> None:
    unnamed = Recipient(id="agency:old", name="総務省（旧登録）", kind=RecipientType.NATIONAL_BODY)
    registry = AffairRegistry(CATALOGUE, recipients=[unnamed])
    named = dataclasses.replace(unnamed, body="総務省")
    registry.register_recipient(named)
    assert registry.recipient("agency:old").body == "総務省"
    assert _grant(registry, "agency:old", "T1-16").recipient_id == "agency:old"
    # Once named, the body is part of what the id means: another one is a conflict.
    with pytest.raises(RecipientConflict):
        registry.register_recipient(dataclasses.replace(unnamed, body="外務省"))
