"""MJ identifiers in identity notices: sent only when a name needs them, checked on receipt."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pytest

from jukinet.domain.errors import ValidationError
from jukinet.domain.identity import (
    ChangeReason,
    IdentityInfo,
    IdentityNotice,
    identity_digest,
    parse_notice_body,
    parse_snapshot_body,
    snapshot_body,
)

TODAY = date(2026, 12, 3)
TSUCHIYOSHI = "\U00020bb7"  # 𠮷
PLAIN = IdentityInfo(
    resident_code="12345678903",
    family_name="吉田",
    given_name="太郎",
    family_name_kana="ヨシダ",
    given_name_kana="タロウ",
    birth_date=date(1980, 1, 1),
    sex="male",
    address="東京都西東京市南町五丁目6番13号",
)
MJ = dataclasses.replace(
    PLAIN, family_name=f"{TSUCHIYOSHI}田", family_name_mj=f"{TSUCHIYOSHI}:MJ032129"
)


def _body(current: IdentityInfo, before: IdentityInfo | None = None) -> dict[str, Any]:
    return IdentityNotice(
        municipality_code="132292",
        current=current,
        reason=ChangeReason.NAME_CHANGE if before else ChangeReason.MOVE_IN,
        changed_on=TODAY,
        before=before,
    ).as_body()


def test_a_plain_name_travels_and_digests_exactly_as_before() -> None:
    body = _body(PLAIN)
    assert "family_name_mj" not in body["identity"]
    assert "given_name_mj" not in body["identity"]
    assert parse_notice_body(body, today=TODAY).current == PLAIN
    # The digest of a name within JIS X 0213 is unchanged by the new items.
    assert identity_digest(PLAIN, deleted=False) == identity_digest(
        dataclasses.replace(PLAIN), deleted=False
    )


def test_identifiers_travel_with_the_name_and_round_trip() -> None:
    body = _body(MJ)
    assert body["identity"]["family_name_mj"] == f"{TSUCHIYOSHI}:MJ032129"
    assert parse_notice_body(body, today=TODAY).current == MJ
    info, _, _ = parse_snapshot_body(snapshot_body("132292", MJ, deleted=False), today=TODAY)
    assert info == MJ
    assert identity_digest(MJ, deleted=False) != identity_digest(
        dataclasses.replace(MJ, family_name_mj=f"{TSUCHIYOSHI}:MJ032130"), deleted=False
    )


def test_a_name_change_sends_the_identifiers_before_too() -> None:
    to_mj = _body(MJ, before=PLAIN)
    assert to_mj["change"]["before"] == {"family_name": "吉田", "family_name_mj": ""}
    notice = parse_notice_body(to_mj, today=TODAY)
    assert notice.before == PLAIN
    from_mj = _body(PLAIN, before=MJ)
    assert from_mj["change"]["before"]["family_name_mj"] == f"{TSUCHIYOSHI}:MJ032129"
    assert parse_notice_body(from_mj, today=TODAY).before == MJ


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ({"family_name_mj": None}, "identity"),  # not text
        ({"family_name_mj": f"{TSUCHIYOSHI}:MJ03212"}, "family_name_mj"),  # malformed
        ({"family_name_mj": "田:MJ032129"}, "family_name_mj"),  # not the name's character
        ({"given_name_mj": f"{TSUCHIYOSHI}:MJ032129"}, "given_name_mj"),  # 太郎 has none
        ({"family_name_kana": "ヨシダ", "extra_mj": "x"}, "identity"),  # unknown item
    ],
)
def test_bad_identifiers_are_a_fault_naming_the_item(items: dict[str, Any], field: str) -> None:
    body = _body(MJ)
    body["identity"] = body["identity"] | items
    with pytest.raises(ValidationError) as caught:
        parse_notice_body(body, today=TODAY)
    assert caught.value.code == "JUKI-NET-010"
    assert caught.value.field == field


def test_a_name_that_needs_identifiers_but_carries_none_is_a_fault() -> None:
    body = _body(MJ)
    del body["identity"]["family_name_mj"]
    with pytest.raises(ValidationError) as caught:
        parse_notice_body(body, today=TODAY)
    assert caught.value.field == "family_name_mj"
