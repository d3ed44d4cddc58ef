"""Reconciliation's pure part: buckets, bucket digests, record comparison, history hashes."""

from __future__ import annotations

from datetime import date

from jukinet.domain.identity import IdentityInfo, identity_digest
from jukinet.domain.reconcile import (
    INCONSISTENT,
    bucket_digests,
    bucket_of,
    compare_records,
    differing_buckets,
    history_hash,
    in_buckets,
)


def test_pure_digests_pinpoint_the_differing_records() -> None:
    ours = {"12300000001": "a" * 64, "12300000002": "b" * 64, "45600000003": "c" * 64}
    theirs = {"12300000001": "a" * 64, "12300000002": "f" * 64, "78900000004": "d" * 64}
    assert set(bucket_digests(ours)) == {"123", "456"}
    assert bucket_digests(ours)["456"] != bucket_digests(theirs).get("456")
    assert differing_buckets(bucket_digests(ours), bucket_digests(theirs)) == ["123", "456", "789"]
    assert differing_buckets(bucket_digests(ours), bucket_digests(dict(ours))) == []
    found = compare_records(ours, theirs)
    assert (found.missing, found.different, found.extra) == (
        ["45600000003"],
        ["12300000002"],
        ["78900000004"],
    )
    assert found.total == 3


def test_buckets_are_the_first_three_digits() -> None:
    hashes = {"12300000001": "a" * 64, "45600000003": "c" * 64}
    assert bucket_of("12300000001") == "123"
    assert in_buckets(hashes, ["456", "789"]) == {"45600000003": "c" * 64}


def test_a_history_version_is_hashed_like_the_record_it_was() -> None:
    info = IdentityInfo(
        resident_code="12300000001",
        family_name="佐藤",
        given_name="花子",
        family_name_kana="サトウ",
        given_name_kana="ハナコ",
        birth_date=date(1990, 1, 1),
        sex="female",
        address="東京都西東京市南町五丁目6番18号",
    )
    stored = info.as_dict()
    assert history_hash(stored, deleted=True) == identity_digest(info, deleted=True)
    assert history_hash(stored | {"birth_date": "not a date"}, deleted=True) == INCONSISTENT
    assert history_hash({"resident_code": "12300000001"}, deleted=False) == INCONSISTENT
