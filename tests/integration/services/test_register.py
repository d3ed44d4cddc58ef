"""Counter work through the service layer, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from jukinet.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from jukinet.domain.identity import ChangeReason
from jukinet.domain.operators import Role
from jukinet.domain.register import RecordStatus, Relationship, Sex
from jukinet.services import reading, register
from jukinet.services.context import ServiceContext
from jukinet.services.register import HouseholdChange, PersonInput
from jukinet.storage.tables import (
    OutboxRow,
    RegisterEventRow,
    ResidentRow,
    ResidentVersionRow,
)
from tests.support.factories import make_actor, move_in_household, person, with_pool

IDENTITY_KEYS = {
    "resident_code",
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "birth_date",
    "sex",
    "address",
}


def _counts(node: ServiceContext) -> tuple[int, ...]:
    with node.uow() as uow:
        return tuple(
            int(uow.session.scalar(select(func.count()).select_from(t)) or 0)
            for t in (ResidentRow, ResidentVersionRow, RegisterEventRow, OutboxRow)
        )


def _notices(node: ServiceContext) -> list[dict[str, object]]:
    with node.uow() as uow:
        return [r.body for r in uow.session.scalars(select(OutboxRow).order_by(OutboxRow.id))]


def _family(node: ServiceContext):
    clerk = make_actor(node)
    result = move_in_household(
        node,
        clerk,
        person(),
        person(
            given="花子",
            given_kana="ハナコ",
            sex=Sex.FEMALE,
            birth_date=date(1982, 6, 3),
            relationship=Relationship.WIFE,
        ),
    )
    return clerk, result


def test_move_in_creates_household_versions_and_notices(node: ServiceContext) -> None:
    clerk, result = _family(node)
    assert len(result.records) == 2
    head = result.records[0].record
    assert head.is_head
    assert head.address == "東京都西東京市泉町一丁目2番3号"
    assert head.previous_address == "東京都国立市中一丁目1番1号"
    assert result.records[0].version == 1
    notices = _notices(node)
    assert len(notices) == 2
    for body in notices:
        assert set(body["identity"]) == IDENTITY_KEYS  # nothing beyond the six items
        assert body["change"]["reason"] == ChangeReason.MOVE_IN.value
        assert body["change"]["before"] == {"address": "東京都国立市中一丁目1番1号"}
    history = reading.read_history(node, actor=clerk, resident_code=head.resident_code)
    assert [h.version for h in history] == [1]
    assert history[0].event_kind == "move_in"


def test_notice_goes_to_the_prefecture_in_the_same_transaction(node: ServiceContext) -> None:
    _family(node)
    with node.uow() as uow:
        rows = list(uow.session.scalars(select(OutboxRow)))
    assert {r.recipient for r in rows} == {"prefecture:13"}
    assert all(r.kind == "identity_notice" and r.delivered_at is None for r in rows)


def test_birth_draws_a_code_from_the_pool(node: ServiceContext) -> None:
    clerk, family = _family(node)
    with_pool(node, 3)
    household = family.records[0].record.household_number
    baby = PersonInput(
        family_name="山田",
        given_name="𠮷子",
        family_name_kana="ヤマダ",
        given_name_kana="ヨシコ",
        birth_date=date(2026, 11, 20),
        sex=Sex.FEMALE,
        relationship=Relationship.CHILD,
    )
    result = register.file_birth(
        node, actor=clerk, household_number=household, person=baby, filed_on=date(2026, 11, 26)
    )
    record = result.records[0].record
    assert record.name.given == "𠮷子"  # stored exactly as written, non-BMP included
    assert record.address == family.records[0].record.address
    with node.uow() as uow:
        assert uow.codes.state_of(record.resident_code) == "issued"
        assert uow.codes.available_count("132292") == 2
    assert _notices(node)[-1]["change"]["reason"] == ChangeReason.BIRTH.value


def test_second_birth_for_the_same_person_is_refused_and_writes_nothing(
    node: ServiceContext,
) -> None:
    clerk, family = _family(node)
    with_pool(node, 3)
    household = family.records[0].record.household_number
    baby = PersonInput(
        family_name="山田",
        given_name="一郎",
        family_name_kana="ヤマダ",
        given_name_kana="イチロウ",
        birth_date=date(2026, 11, 20),
        sex=Sex.MALE,
        relationship=Relationship.CHILD,
    )
    register.file_birth(
        node, actor=clerk, household_number=household, person=baby, filed_on=date(2026, 11, 26)
    )
    before = _counts(node)
    with pytest.raises(Conflict) as error:
        register.file_birth(
            node, actor=clerk, household_number=household, person=baby, filed_on=date(2026, 11, 26)
        )
    assert error.value.code == "JUKI-REG-022"
    assert _counts(node) == before


def test_empty_pool_refuses_a_birth(node: ServiceContext) -> None:
    clerk, family = _family(node)
    baby = PersonInput(
        family_name="山田",
        given_name="一郎",
        family_name_kana="ヤマダ",
        given_name_kana="イチロウ",
        birth_date=date(2026, 11, 20),
        sex=Sex.MALE,
        relationship=Relationship.CHILD,
    )
    before = _counts(node)
    with pytest.raises(Conflict) as error:
        register.file_birth(
            node,
            actor=clerk,
            household_number=family.records[0].record.household_number,
            person=baby,
            filed_on=date(2026, 11, 26),
        )
    assert error.value.code == "JUKI-CODE-010"
    assert _counts(node) == before


def test_future_birth_date_is_refused(node: ServiceContext) -> None:
    clerk, family = _family(node)
    with_pool(node, 1)
    baby = PersonInput(
        family_name="山田",
        given_name="一郎",
        family_name_kana="ヤマダ",
        given_name_kana="イチロウ",
        birth_date=date(2026, 12, 1),
        sex=Sex.MALE,
        relationship=Relationship.CHILD,
    )
    with pytest.raises(ValidationError) as error:
        register.file_birth(
            node,
            actor=clerk,
            household_number=family.records[0].record.household_number,
            person=baby,
            filed_on=date(2026, 11, 26),
        )
    assert error.value.field == "birth_date"


def test_late_filing_is_accepted_and_flagged(node: ServiceContext) -> None:
    clerk = make_actor(node)
    result = move_in_household(node, clerk, person(), moved_on=date(2026, 10, 1))
    assert result.late is True
    with node.uow() as uow:
        assert uow.session.scalars(select(RegisterEventRow.late)).one() is True


def test_move_within_keeps_the_version_before(node: ServiceContext) -> None:
    clerk, family = _family(node)
    household = family.records[0].record.household_number
    result = register.file_move_within(
        node,
        actor=clerk,
        household_number=household,
        address="東京都西東京市田無町四丁目5番6号",
        moved_on=date(2026, 11, 25),
        filed_on=date(2026, 11, 26),
    )
    head = result.records[0]
    assert head.version == 2
    assert head.record.previous_address == "東京都西東京市泉町一丁目2番3号"
    history = reading.read_history(node, actor=clerk, resident_code=head.record.resident_code)
    assert [h.record.address for h in history] == [
        "東京都西東京市泉町一丁目2番3号",
        "東京都西東京市田無町四丁目5番6号",
    ]
    notice = _notices(node)[-1]
    assert notice["change"]["reason"] == ChangeReason.MOVE_WITHIN.value
    assert notice["change"]["before"] == {"address": "東京都西東京市泉町一丁目2番3号"}


def test_move_out_leaves_a_readable_removed_record(node: ServiceContext) -> None:
    clerk, family = _family(node)
    codes = [r.record.resident_code for r in family.records]
    register.file_move_out(
        node,
        actor=clerk,
        resident_codes=codes,
        destination="大阪府大阪市北区",
        planned_on=date(2026, 12, 5),
        filed_on=date(2026, 11, 26),
    )
    removed = reading.read_resident(node, actor=clerk, resident_code=codes[0])
    assert removed.record.status is RecordStatus.REMOVED
    assert removed.record.removal_reason is ChangeReason.MOVE_OUT
    assert removed.record.destination == "大阪府大阪市北区"
    notice = _notices(node)[-1]
    assert notice["change"]["deleted"] is True
    # No counter event on a 除票 ...
    with pytest.raises(Conflict) as error:
        register.file_name_change(
            node,
            actor=clerk,
            resident_code=codes[0],
            family_name="佐藤",
            given_name="太郎",
            family_name_kana="サトウ",
            given_name_kana="タロウ",
            changed_on=date(2026, 11, 26),
            filed_on=date(2026, 11, 26),
        )
    assert error.value.code == "JUKI-REG-010"
    # ... but an ex-officio correction is allowed.
    supervisor = make_actor(node, Role.SUPERVISOR)
    corrected = register.correct_record(
        node,
        actor=supervisor,
        resident_code=codes[0],
        items={"birth_date": date(1980, 4, 2)},
        reason_note="戸籍照合による修正",
    )
    assert corrected.records[0].record.birth_date == date(1980, 4, 2)
    assert corrected.records[0].record.status is RecordStatus.REMOVED
    # Removed records do not show in a default search, but do when asked for.
    found = reading.search_residents(node, actor=clerk, query=reading.SearchQuery(name="ヤマダ"))
    assert found == []
    found = reading.search_residents(
        node, actor=clerk, query=reading.SearchQuery(name="ヤマダ", include_removed=True)
    )
    assert len(found) == 2


def test_head_cannot_leave_the_household_headless(node: ServiceContext) -> None:
    clerk, family = _family(node)
    before = _counts(node)
    with pytest.raises(ValidationError) as error:
        register.file_move_out(
            node,
            actor=clerk,
            resident_codes=[family.records[0].record.resident_code],
            destination="大阪府大阪市北区",
            planned_on=date(2026, 12, 5),
            filed_on=date(2026, 11, 26),
        )
    assert error.value.code == "JUKI-REG-020"
    assert _counts(node) == before


def test_death_of_the_head_names_a_new_head(node: ServiceContext) -> None:
    clerk, family = _family(node)
    head, wife = (r.record.resident_code for r in family.records)
    with pytest.raises(ValidationError):
        register.file_death(
            node,
            actor=clerk,
            resident_code=head,
            died_on=date(2026, 11, 24),
            filed_on=date(2026, 11, 26),
        )
    result = register.file_death(
        node,
        actor=clerk,
        resident_code=head,
        died_on=date(2026, 11, 24),
        filed_on=date(2026, 11, 26),
        new_head_code=wife,
    )
    assert result.records[0].record.removal_reason is ChangeReason.DEATH
    assert result.records[1].record.relationship is Relationship.HEAD


def test_name_change_notice_carries_the_old_name(node: ServiceContext) -> None:
    clerk, family = _family(node)
    wife = family.records[1].record.resident_code
    register.file_name_change(
        node,
        actor=clerk,
        resident_code=wife,
        family_name="髙橋",
        given_name="花子",
        family_name_kana="タカハシ",
        given_name_kana="ハナコ",
        changed_on=date(2026, 11, 25),
        filed_on=date(2026, 11, 26),
    )
    notice = _notices(node)[-1]
    assert notice["identity"]["family_name"] == "髙橋"
    assert notice["identity"]["family_name_mj"] == "髙:MJ028902"  # 髙 is outside JIS X 0213
    assert notice["change"]["before"] == {
        "family_name": "山田",
        "family_name_kana": "ヤマダ",
        "family_name_mj": "",  # the old name had no character that needs one
    }
    found = reading.search_residents(node, actor=clerk, query=reading.SearchQuery(name="高橋"))
    assert [f.record.resident_code for f in found] == [wife]


def test_code_change_retires_the_old_code_for_ever(node: ServiceContext) -> None:
    clerk, family = _family(node)
    with_pool(node, 2)
    old = family.records[0].record.resident_code
    result = register.change_resident_code(
        node, actor=clerk, resident_code=old, filed_on=date(2026, 11, 26)
    )
    new = result.records[0].record.resident_code
    assert new != old
    with pytest.raises(NotFound):
        reading.read_resident(node, actor=clerk, resident_code=old)
    with node.uow() as uow:
        assert uow.codes.state_of(old) == "retired"
    notice = _notices(node)[-1]
    assert notice["change"]["reason"] == ChangeReason.CODE_CHANGE.value
    assert notice["change"]["before"] == {"resident_code": old}
    # The retired code can never come back, not even with a person moving in.
    with pytest.raises(ValidationError) as error:
        move_in_household(node, clerk, person(code=old, given="次郎", given_kana="ジロウ"))
    assert error.value.code == "JUKI-CODE-011"


def test_household_split_gives_the_member_their_own_household(node: ServiceContext) -> None:
    clerk, family = _family(node)
    wife = family.records[1].record
    result = register.file_household_change(
        node,
        actor=clerk,
        changes=[
            HouseholdChange(
                resident_code=wife.resident_code, relationship=Relationship.HEAD, new_household=True
            )
        ],
        changed_on=date(2026, 11, 26),
        filed_on=date(2026, 11, 26),
    )
    moved = result.records[0].record
    assert moved.household_number != wife.household_number
    assert moved.is_head
    before = len(_notices(node))
    assert before == 2  # a household change touches no identity item: nothing goes upstream


def test_household_change_that_leaves_two_heads_is_refused(node: ServiceContext) -> None:
    clerk, family = _family(node)
    wife = family.records[1].record
    before = _counts(node)
    with pytest.raises(ValidationError) as error:
        register.file_household_change(
            node,
            actor=clerk,
            changes=[
                HouseholdChange(resident_code=wife.resident_code, relationship=Relationship.HEAD)
            ],
            changed_on=date(2026, 11, 26),
            filed_on=date(2026, 11, 26),
        )
    assert error.value.code == "JUKI-REG-021"
    assert _counts(node) == before


def test_unknown_resident_code_is_not_found(node: ServiceContext) -> None:
    clerk = make_actor(node)
    with pytest.raises(NotFound) as error:
        reading.read_resident(node, actor=clerk, resident_code="00000000000")
    assert error.value.code == "JUKI-REG-030"


def test_roles_limit_what_operators_may_do(node: ServiceContext) -> None:
    clerk, family = _family(node)
    code = family.records[0].record.resident_code
    with pytest.raises(PermissionDenied):
        register.correct_record(
            node,
            actor=clerk,
            resident_code=code,
            items={"birth_date": date(1980, 4, 2)},
            reason_note="誤記",
        )
    security = make_actor(node, Role.SECURITY_OFFICER)
    with pytest.raises(PermissionDenied):
        reading.read_resident(node, actor=security, resident_code=code)


def test_two_clerks_editing_the_same_record_cannot_both_win(node: ServiceContext) -> None:
    clerk, family = _family(node)
    other = make_actor(node)
    code = family.records[1].record.resident_code
    seen_version = reading.read_resident(node, actor=clerk, resident_code=code).version
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def edit(actor, family_name: str, kana: str) -> None:
        barrier.wait()
        try:
            register.file_name_change(
                node,
                actor=actor,
                resident_code=code,
                family_name=family_name,
                given_name="花子",
                family_name_kana=kana,
                given_name_kana="ハナコ",
                changed_on=date(2026, 11, 26),
                filed_on=date(2026, 11, 26),
                expected_version=seen_version,
            )
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")

    threads = [
        threading.Thread(target=edit, args=(clerk, "佐藤", "サトウ")),
        threading.Thread(target=edit, args=(other, "鈴木", "スズキ")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    final = reading.read_resident(node, actor=clerk, resident_code=code)
    assert final.version == seen_version + 1
    history = reading.read_history(node, actor=clerk, resident_code=code)
    assert len(history) == 2
