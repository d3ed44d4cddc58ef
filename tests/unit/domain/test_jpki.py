"""The signature certificate's rules (公的個人認証): validity, subject, revocation triggers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from jukinet.domain.jpki import (
    DATE_OF_BIRTH_OID,
    GENDER_OID,
    RevocationReason,
    SubjectItems,
    revocation_reason,
    subject_attributes,
    subject_digest,
    validity,
)

ITEMS = SubjectItems(
    family_name="髙橋",
    given_name="一郎",
    birth_date=date(1980, 4, 1),
    sex="male",
    address="東京都西東京市泉町一丁目2番3号",
)


def test_three_years_less_a_day_back_dated_a_little() -> None:
    now = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
    start, end = validity(now)
    assert start < now
    assert (now - start).total_seconds() == 300
    assert end == datetime(2029, 11, 25, 3, 0, tzinfo=UTC)


def test_leap_day_ends_on_the_28th() -> None:
    _, end = validity(datetime(2028, 2, 29, 12, 0, tzinfo=UTC))
    assert end == datetime(2031, 2, 27, 12, 0, tzinfo=UTC)


def test_never_outlives_the_card() -> None:
    now = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
    _, end = validity(now, card_expires_on=date(2027, 3, 31))
    # The end of the card's last day in Japan.
    assert end == datetime(2027, 3, 31, 14, 59, 59, tzinfo=UTC)
    _, later = validity(now, card_expires_on=date(2036, 11, 25))
    assert later == datetime(2029, 11, 25, 3, 0, tzinfo=UTC)


def test_subject_is_the_four_items_and_nothing_else() -> None:
    attributes = dict(subject_attributes(ITEMS))
    assert attributes["2.5.4.3"] == "髙橋 一郎"
    assert attributes["2.5.4.9"] == ITEMS.address
    assert attributes[DATE_OF_BIRTH_OID] == "1980-04-01"
    assert attributes[GENDER_OID] == "M"
    assert set(attributes) == {
        "2.5.4.6", "2.5.4.3", "2.5.4.4", "2.5.4.42", "2.5.4.9", DATE_OF_BIRTH_OID, GENDER_OID
    }  # fmt: skip


def test_digest_changes_with_every_item() -> None:
    base = subject_digest(ITEMS)
    for change in (
        {"family_name": "高橋"},
        {"given_name": "次郎"},
        {"birth_date": date(1980, 4, 2)},
        {"sex": "female"},
        {"address": "東京都西東京市泉町一丁目2番4号"},
    ):
        assert subject_digest(replace(ITEMS, **change)) != base  # type: ignore[arg-type]
    assert subject_digest(replace(ITEMS)) == base


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"family_name": "佐藤"}, RevocationReason.NAME_CHANGED),
        ({"given_name": "次郎"}, RevocationReason.NAME_CHANGED),
        ({"birth_date": date(1981, 4, 1)}, RevocationReason.BIRTH_DATE_CHANGED),
        ({"sex": "female"}, RevocationReason.SEX_CHANGED),
        ({"address": "東京都西東京市田無町一丁目1番1号"}, RevocationReason.ADDRESS_CHANGED),
    ],
)
def test_a_changed_item_revokes(change: dict[str, object], reason: RevocationReason) -> None:
    reported = replace(ITEMS, **change)  # type: ignore[arg-type]
    assert revocation_reason(ITEMS, reported, deleted=False, code_changed=False) is reason
    assert reason.crl_reason == "affiliation_changed"


def test_deletion_and_code_change_always_revoke() -> None:
    assert (
        revocation_reason(ITEMS, ITEMS, deleted=True, code_changed=False)
        is RevocationReason.RECORD_DELETED
    )
    assert (
        revocation_reason(None, ITEMS, deleted=False, code_changed=True)
        is RevocationReason.CODE_CHANGED
    )
    assert RevocationReason.RECORD_DELETED.crl_reason == "cessation_of_operation"
    assert RevocationReason.SUPERSEDED.crl_reason == "superseded"
    # A lost card's key may be in a finder's hands; an ended card's key is simply retired.
    assert RevocationReason.CARD_SUSPENDED.crl_reason == "key_compromise"
    assert RevocationReason.CARD_ENDED.crl_reason == "cessation_of_operation"
    assert all(reason.label_ja for reason in RevocationReason)


def test_unchanged_items_or_nothing_held_do_not_revoke() -> None:
    assert revocation_reason(ITEMS, replace(ITEMS), deleted=False, code_changed=False) is None
    assert revocation_reason(None, ITEMS, deleted=False, code_changed=False) is None


def test_every_reason_has_a_japanese_label() -> None:
    for reason in RevocationReason:
        assert reason.label_ja
