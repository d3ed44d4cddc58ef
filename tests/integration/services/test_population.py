"""Bulk entry of a synthetic population, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import random
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from jukinet.domain.codes import is_valid_resident_code
from jukinet.domain.errors import AuthenticationFailed, PermissionDenied, ValidationError
from jukinet.domain.identity import ChangeReason
from jukinet.domain.operators import Actor, Role
from jukinet.domain.register import Relationship
from jukinet.seed import SyntheticHousehold, generate_population
from jukinet.services import reading
from jukinet.services.codes import allot_codes, pool_size
from jukinet.services.context import ServiceContext
from jukinet.services.operators import authenticate
from jukinet.services.population import SYSTEM_OPERATOR, load_population
from jukinet.services.reading import SearchQuery
from jukinet.storage import bulk
from jukinet.storage.tables import (
    HouseholdRow,
    OperatorRow,
    OutboxRow,
    RegisterEventRow,
    ResidentCodeRow,
    ResidentRow,
    ResidentVersionRow,
)
from tests.support.factories import PASSWORD, make_actor, move_in_household, person

TABLES = (HouseholdRow, ResidentRow, ResidentVersionRow, OutboxRow, RegisterEventRow)


def _counts(node: ServiceContext) -> dict[str, int]:
    with node.uow() as uow:
        return {
            t.__tablename__: int(uow.session.scalar(select(func.count()).select_from(t)) or 0)
            for t in TABLES
        }


def _issued(node: ServiceContext) -> set[str]:
    with node.uow() as uow:
        return set(
            uow.session.scalars(
                select(ResidentCodeRow.code).where(ResidentCodeRow.state == "issued")
            )
        )


def _households(node: ServiceContext, count: int, seed: int = 1) -> list[SyntheticHousehold]:
    return generate_population(node.municipality_code, count, today=node.today(), seed=seed)


@pytest.fixture
def supervisor(node: ServiceContext) -> Actor:
    """A signed-in supervisor (ex-officio entries are theirs to make)."""
    return make_actor(node, Role.SUPERVISOR)


def test_load_writes_everything_the_counter_writes(node: ServiceContext, supervisor: Actor) -> None:
    households = _households(node, 500)
    calls: list[tuple[int, int]] = []
    loaded = load_population(
        node,
        actor=supervisor,
        households=households,
        batch_size=200,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert loaded == 500
    counts = _counts(node)
    assert counts["residents"] == 500
    assert counts["resident_versions"] == 500
    assert counts["outbox"] == 500
    assert counts["households"] == len(households)
    assert counts["register_events"] == len(calls)  # one event per batch
    assert calls[-1] == (500, 500)
    assert [done for done, _total in calls] == sorted(done for done, _total in calls)
    assert all(total == 500 for _done, total in calls)

    with node.uow() as uow:
        rows = list(uow.session.scalars(select(ResidentRow)))
        notices = list(uow.session.scalars(select(OutboxRow)))
        events = list(uow.session.scalars(select(RegisterEventRow)))
    codes = [r.resident_code for r in rows]
    assert len(set(codes)) == 500
    assert all(is_valid_resident_code(c) for c in codes)
    assert set(codes) == _issued(node)  # every code came from the pool, marked issued
    assert all(r.version == 1 and r.updated_by == supervisor.operator_id for r in rows)
    assert {e.kind for e in events} == {"ex_officio_entry"}
    assert {e.operator_id for e in events} == {supervisor.operator_id}
    assert {n.subject for n in notices} == set(codes)
    for notice in notices:
        assert notice.kind == "identity_notice"
        assert notice.recipient == node.upstream
        assert notice.body["change"]["reason"] == ChangeReason.EX_OFFICIO_ENTRY.value
        assert notice.body["change"]["before"] is None
        assert set(notice.body["identity"]) == {
            "resident_code",
            "family_name",
            "given_name",
            "family_name_kana",
            "given_name_kana",
            "birth_date",
            "sex",
            "address",
        }


def test_loaded_records_read_back_through_the_reading_service(
    node: ServiceContext, supervisor: Actor
) -> None:
    households = _households(node, 300, seed=5)
    load_population(node, actor=supervisor, households=households)
    clerk = make_actor(node, Role.CLERK)
    with node.uow() as uow:
        first = uow.session.scalars(select(ResidentRow).order_by(ResidentRow.id)).first()
    assert first is not None
    view = reading.read_resident(node, actor=clerk, resident_code=first.resident_code)
    generated = households[0].members[0]
    assert view.record.name.family == generated.family_name
    assert view.record.name.given_kana == generated.given_name_kana
    assert view.record.birth_date == generated.birth_date
    assert view.record.address == households[0].address
    assert view.record.domicile == generated.domicile
    assert view.record.insurance == generated.insurance
    assert view.record.relationship is Relationship.HEAD
    assert view.version == 1

    household = reading.read_household(
        node, actor=clerk, household_number=view.record.household_number
    )
    assert len(household.members) == len(households[0].members)

    history = reading.read_history(node, actor=clerk, resident_code=first.resident_code)
    assert [h.event_kind for h in history] == ["ex_officio_entry"]
    assert history[0].record == view.record

    found = reading.search_residents(
        node,
        actor=clerk,
        query=SearchQuery(name=generated.family_name_kana + generated.given_name_kana),
    )
    assert first.resident_code in {f.record.resident_code for f in found}


def test_counter_work_continues_after_a_load(node: ServiceContext, supervisor: Actor) -> None:
    """Ids reserved in bulk must not collide with the ones the counter's inserts get next."""
    load_population(node, actor=supervisor, households=_households(node, 120, seed=9))
    clerk = make_actor(node, Role.CLERK)
    result = move_in_household(node, clerk, person(rng=random.Random(3)))
    assert result.records[0].version == 1
    assert _counts(node)["residents"] == 121


def test_pool_is_topped_up_and_codes_come_from_it(node: ServiceContext, supervisor: Actor) -> None:
    allot_codes(node, count=40, rng=random.Random(1))
    load_population(node, actor=supervisor, households=_households(node, 150))
    assert pool_size(node) == 0
    assert len(_issued(node)) == 150


def test_a_clerk_may_not_load(node: ServiceContext) -> None:
    clerk = make_actor(node, Role.CLERK)
    with pytest.raises(PermissionDenied):
        load_population(node, actor=clerk, households=_households(node, 10))
    assert _counts(node)["residents"] == 0


def test_without_an_actor_the_system_account_writes(node: ServiceContext) -> None:
    load_population(node, actor=None, households=_households(node, 20))
    with node.uow() as uow:
        system = uow.operators.by_username(SYSTEM_OPERATOR)
        assert system is not None
        assert not system.active
        updated_by = set(uow.session.scalars(select(ResidentRow.updated_by)))
    assert updated_by == {system.id}
    with pytest.raises(AuthenticationFailed):
        authenticate(node, username=SYSTEM_OPERATOR, password=PASSWORD)
    # A second load reuses the account.
    load_population(node, actor=None, households=_households(node, 5, seed=2))
    with node.uow() as uow:
        accounts = uow.session.scalar(
            select(func.count()).select_from(OperatorRow).where(OperatorRow.username == "system")
        )
    assert accounts == 1


def _with_bad_reading(households: list[SyntheticHousehold], index: int) -> None:
    bad = households[index]
    member = dataclasses.replace(bad.members[0], given_name_kana="たろう")
    households[index] = dataclasses.replace(bad, members=(member, *bad.members[1:]))


def test_an_invalid_record_leaves_nothing_written(node: ServiceContext, supervisor: Actor) -> None:
    households = _households(node, 500)
    _with_bad_reading(households, 100)
    with pytest.raises(ValidationError) as caught:
        load_population(node, actor=supervisor, households=households)
    assert caught.value.code == "JUKI-NAME-012"
    assert caught.value.field == "given_name_kana"
    assert set(_counts(node).values()) == {0}
    assert _issued(node) == set()


def test_a_household_without_a_head_is_refused(node: ServiceContext, supervisor: Actor) -> None:
    households = _households(node, 50)
    couple = next(h for h in households if len(h.members) >= 2)
    index = households.index(couple)
    households[index] = dataclasses.replace(couple, members=couple.members[1:])
    with pytest.raises(ValidationError) as caught:
        load_population(node, actor=supervisor, households=households)
    assert caught.value.code == "JUKI-REG-020"
    assert _counts(node)["residents"] == 0


def test_a_failing_batch_is_rolled_back_whole(
    node: ServiceContext, supervisor: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database failure after the first inserts of a batch: the batch leaves no trace."""
    real = bulk.insert_rows

    def failing(session: Any, table: Any, rows: list[dict[str, Any]]) -> None:
        if table.name == "outbox":
            raise RuntimeError("disk full")
        real(session, table, rows)

    monkeypatch.setattr(bulk, "insert_rows", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        load_population(node, actor=supervisor, households=_households(node, 300))
    assert set(_counts(node).values()) == {0}
    assert _issued(node) == set()
    assert pool_size(node) == 300  # the codes went back to the pool with the rollback


def test_batches_before_a_failing_one_stay(node: ServiceContext, supervisor: Actor) -> None:
    households = _households(node, 600)
    # Batches close once they hold 100 residents or more; spoil the first household of the
    # third batch.
    seen, in_batch, batches, index = 0, 0, 0, 0
    while batches < 2:
        in_batch += len(households[index].members)
        index += 1
        if in_batch >= 100:
            seen, in_batch, batches = seen + in_batch, 0, batches + 1
    _with_bad_reading(households, index)
    with pytest.raises(ValidationError):
        load_population(node, actor=supervisor, households=households, batch_size=100)
    counts = _counts(node)
    assert counts["residents"] == seen
    assert counts["resident_versions"] == seen
    assert counts["outbox"] == seen
    assert counts["register_events"] == 2


def test_a_seeded_load_is_repeatable(node: ServiceContext, supervisor: Actor) -> None:
    """Same pool and same seed: the same people get the same codes."""
    allot_codes(node, count=200, rng=random.Random(11))
    households = _households(node, 200, seed=4)
    load_population(node, actor=supervisor, households=households, rng=random.Random(4))
    with node.uow() as uow:
        first = [
            (r.family_name, r.given_name, r.birth_date, r.resident_code)
            for r in uow.session.scalars(select(ResidentRow).order_by(ResidentRow.id))
        ]
    # The same draw again from an identical pool: reset and repeat.
    codes = sorted(c for *_rest, c in first)
    shuffled = codes[:]
    random.Random(4).shuffle(shuffled)
    assert [c for *_rest, c in first] == shuffled


def test_birth_dates_are_not_in_the_future(node: ServiceContext, supervisor: Actor) -> None:
    households = _households(node, 30)
    bad = households[0]
    late = dataclasses.replace(bad.members[0], birth_date=date(2099, 1, 1))
    households[0] = dataclasses.replace(bad, members=(late, *bad.members[1:]))
    with pytest.raises(ValidationError) as caught:
        load_population(node, actor=supervisor, households=households)
    assert caught.value.code == "JUKI-REG-004"


def test_a_stream_of_households_tops_the_pool_up_batch_by_batch(
    node: ServiceContext, supervisor: Actor
) -> None:
    """Without a known total the pool is topped up per batch; new codes land anywhere in the
    code space, behind the point the previous batch drew up to, and must still be found."""
    stream = iter(_households(node, 300, seed=12))
    calls: list[tuple[int, int]] = []
    loaded = load_population(
        node,
        actor=supervisor,
        households=stream,
        batch_size=50,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert loaded == 300
    assert len(_issued(node)) == 300
    assert pool_size(node) == 0
    assert calls[-1] == (300, 300)
