"""The register's rules, without a database."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jukinet.domain import register as rules
from jukinet.domain.addresses import validate_address
from jukinet.domain.errors import Conflict, ValidationError
from jukinet.domain.identity import ChangeReason, IdentityInfo, IdentityNotice, parse_notice_body
from jukinet.domain.names import PersonName
from jukinet.domain.register import RecordStatus, Relationship, ResidentRecord, Sex

TODAY = date(2026, 11, 26)


def _record(**changes: object) -> ResidentRecord:
    record = ResidentRecord(
        resident_code="12345678903",
        municipality_code="132292",
        name=PersonName.create(
            family="山田", given="太郎", family_kana="ヤマダ", given_kana="タロウ"
        ),
        birth_date=date(1980, 4, 1),
        sex=Sex.MALE,
        household_number="0000000001",
        relationship=Relationship.HEAD,
        address="東京都西東京市泉町一丁目2番3号",
        became_resident_on=date(2020, 1, 1),
        address_since=date(2020, 1, 1),
    )
    return dataclasses.replace(record, **changes)  # type: ignore[arg-type]


def test_filing_within_fourteen_days_is_on_time() -> None:
    filing = rules.check_filing(event_date=date(2026, 11, 12), filed_on=TODAY, today=TODAY)
    assert filing.late is False


def test_filing_after_fourteen_days_is_accepted_but_late() -> None:
    filing = rules.check_filing(event_date=date(2026, 11, 11), filed_on=TODAY, today=TODAY)
    assert filing.late is True


@given(st.dates(min_value=date(1900, 1, 1), max_value=TODAY))
def test_late_flag_is_exactly_the_fourteen_day_rule(event_date: date) -> None:
    filing = rules.check_filing(event_date=event_date, filed_on=TODAY, today=TODAY)
    assert filing.late == ((TODAY - event_date).days > 14)


def test_event_after_filing_date_is_refused() -> None:
    with pytest.raises(ValidationError) as error:
        rules.check_filing(event_date=date(2026, 11, 27), filed_on=TODAY, today=TODAY)
    assert error.value.code == "JUKI-REG-006"


def test_future_filing_date_is_refused() -> None:
    with pytest.raises(ValidationError) as error:
        rules.check_filing(event_date=TODAY, filed_on=date(2026, 11, 27), today=TODAY)
    assert error.value.field == "filed_on"


def test_move_out_may_be_filed_in_advance_but_not_too_far() -> None:
    rules.check_move_out_dates(planned_on=date(2026, 12, 20), filed_on=TODAY, today=TODAY)
    with pytest.raises(ValidationError):
        rules.check_move_out_dates(planned_on=date(2027, 6, 1), filed_on=TODAY, today=TODAY)


def test_future_birth_is_refused() -> None:
    with pytest.raises(ValidationError) as error:
        rules.validate_birth_date(date(2026, 11, 27), today=TODAY)
    assert error.value.code == "JUKI-REG-004"


def test_move_within_keeps_previous_address() -> None:
    moved = rules.move_within(_record(), address="東京都西東京市田無町一丁目1番1号", moved_on=TODAY)
    assert moved.previous_address == "東京都西東京市泉町一丁目2番3号"
    assert moved.address_since == TODAY


def test_move_within_to_the_same_address_is_refused() -> None:
    with pytest.raises(ValidationError):
        rules.move_within(_record(), address="東京都西東京市泉町一丁目2番3号", moved_on=TODAY)


def test_removed_record_takes_only_corrections() -> None:
    removed = rules.die(_record(), died_on=TODAY)
    assert removed.status is RecordStatus.REMOVED
    with pytest.raises(Conflict) as error:
        rules.move_within(removed, address="東京都西東京市田無町一丁目1番1号", moved_on=TODAY)
    assert error.value.code == "JUKI-REG-010"
    corrected = rules.correct(removed, today=TODAY, birth_date=date(1980, 4, 2))
    assert corrected.birth_date == date(1980, 4, 2)
    assert corrected.status is RecordStatus.REMOVED


def test_death_before_birth_is_refused() -> None:
    with pytest.raises(ValidationError):
        rules.die(_record(), died_on=date(1970, 1, 1))


def test_correction_must_change_something_known() -> None:
    with pytest.raises(ValidationError):
        rules.correct(_record(), today=TODAY, resident_code="00000000000")
    with pytest.raises(ValidationError):
        rules.correct(_record(), today=TODAY, birth_date=date(1980, 4, 1))


def test_household_needs_exactly_one_head() -> None:
    head = _record()
    wife = _record(resident_code="22222222222", relationship=Relationship.WIFE)
    rules.check_household([head, wife])
    with pytest.raises(ValidationError) as none:
        rules.check_household([wife])
    assert none.value.code == "JUKI-REG-020"
    with pytest.raises(ValidationError) as two:
        rules.check_household([head, dataclasses.replace(wife, relationship=Relationship.HEAD)])
    assert two.value.code == "JUKI-REG-021"
    # A removed head does not count: the household then needs a new head.
    with pytest.raises(ValidationError):
        rules.check_household([rules.die(head, died_on=TODAY), wife])


def test_domicile_and_its_head_go_together() -> None:
    assert rules.validate_domicile(None, None) == (None, None)
    assert rules.validate_domicile("東京都千代田区千代田1番", "山田太郎")[1] == "山田太郎"
    with pytest.raises(ValidationError):
        rules.validate_domicile("東京都千代田区千代田1番", None)


def test_notice_carries_only_changed_items_as_before() -> None:
    before = _record()
    after = rules.change_name(
        before,
        name=PersonName.create(
            family="髙橋", given="太郎", family_kana="タカハシ", given_kana="タロウ"
        ),
    )
    notice = IdentityNotice(
        municipality_code="132292",
        current=after.identity(),
        reason=ChangeReason.NAME_CHANGE,
        changed_on=TODAY,
        before=before.identity(),
    )
    body = notice.as_body()
    assert body["change"]["before"] == {"family_name": "山田", "family_name_kana": "ヤマダ"}
    assert body["change"]["deleted"] is False
    assert set(body) == {"municipality_code", "identity", "change"}


def test_deletion_reasons_mark_the_notice_deleted() -> None:
    assert {r for r in ChangeReason if r.deletes_record} == {
        ChangeReason.MOVE_OUT,
        ChangeReason.DEATH,
        ChangeReason.EX_OFFICIO_DELETION,
    }
    assert all(r.label_ja and r.label_en for r in ChangeReason)
    assert len({r.value for r in ChangeReason}) == len(ChangeReason)


def test_birth_dates_before_meiji_are_refused_everywhere() -> None:
    today = date(2026, 12, 2)
    assert rules.validate_birth_date(date(1868, 10, 23), today=today) == date(1868, 10, 23)
    with pytest.raises(ValidationError) as refused:
        rules.validate_birth_date(date(1868, 10, 22), today=today)
    assert (refused.value.code, refused.value.field) == ("JUKI-REG-037", "birth_date")
    # An upper tier refuses the same date in a notice, whoever sends it.
    notice = IdentityNotice(
        municipality_code="132292",
        current=IdentityInfo(
            resident_code="00000000000",
            family_name="山田",
            given_name="太郎",
            family_name_kana="ヤマダ",
            given_name_kana="タロウ",
            birth_date=date(1800, 1, 1),
            sex="male",
            address="東京都西東京市泉町一丁目2番3号",
        ),
        reason=ChangeReason.BIRTH,
        changed_on=date(2026, 11, 30),
        before=None,
    )
    with pytest.raises(ValidationError) as upstream:
        parse_notice_body(notice.as_body(), today=today)
    assert upstream.value.field is not None
    assert "birth_date" in upstream.value.message_en


@pytest.mark.parametrize(
    "address",
    [
        "東京都西東京市泉町\x00一丁目",
        "東京都西東京市\n泉町一丁目",
        "東京都西東京市\u2028泉町一丁目",
        "東京都西東京市泉町\x7f一丁目",
        "東京都西東京市<b>泉町</b>",
    ],
)
def test_addresses_refuse_controls_and_markup(address: str) -> None:
    with pytest.raises(ValidationError) as refused:
        validate_address(address)
    assert refused.value.code == "JUKI-REG-002"


def test_an_ordinary_address_is_kept_as_written() -> None:
    written = "東京都西東京市泉町一丁目2番3号　ハイツ泉101"
    assert validate_address(f"  {written} ") == written
