"""A move between municipalities in different prefectures, participation states and opt-out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import func, select

from jukinet.domain.errors import Conflict
from jukinet.domain.identity import ChangeReason
from jukinet.domain.operators import Role
from jukinet.domain.participation import OptOutRequest
from jukinet.domain.register import RecordStatus
from jukinet.services import reading, register
from jukinet.services.context import ServiceContext
from jukinet.services.register import MoveIn
from jukinet.services.register.notices import initial_load, set_upstream_opt_out
from jukinet.storage.tables import IdentityHistoryRow, IdentityRecordRow, OutboxRow
from tests.support.factories import make_actor, move_in_household, person
from tests.support.network import drain

NISHITOKYO = "municipality:132292"
YOKOHAMA = "municipality:141003"
TOKYO = "prefecture:13"
KANAGAWA = "prefecture:14"
CENTRE = "national:jlis"
Build = Callable[..., dict[str, ServiceContext]]


def _opt_out(code: str) -> OptOutRequest:
    return OptOutRequest(
        resident_code=code, opt_out=True, requested_on=date(2026, 11, 26), request_number="R-1"
    )


def _record(node: ServiceContext, code: str) -> IdentityRecordRow | None:
    with node.session_factory() as session:
        return session.get(IdentityRecordRow, code)


def test_move_to_another_prefecture_removes_the_old_record(network: Build) -> None:
    nodes = network(NISHITOKYO, YOKOHAMA, TOKYO, KANAGAWA, CENTRE)
    old, new = nodes[NISHITOKYO], nodes[YOKOHAMA]
    old_clerk, new_clerk = make_actor(old), make_actor(new)
    arrived = move_in_household(old, old_clerk, person()).records[0].record
    drain(nodes)
    code = arrived.resident_code
    register.file_move_in(
        new,
        actor=new_clerk,
        move_in=MoveIn(
            persons=(person(code=code),),
            address="神奈川県横浜市中区山下町1番地",
            previous_address=arrived.address,
            previous_municipality_code="132292",
            moved_on=date(2026, 11, 25),
            filed_on=date(2026, 11, 26),
        ),
    )
    drain(nodes)
    # The old municipality removed its record on the move-in notice ...
    removed = reading.read_resident(old, actor=old_clerk, resident_code=code)
    assert removed.record.status is RecordStatus.REMOVED
    assert removed.record.removal_reason is ChangeReason.MOVE_OUT
    assert removed.record.destination == "神奈川県横浜市"
    # ... which reached Tokyo as a deletion, while Kanagawa and the centre hold the new address.
    tokyo = _record(nodes[TOKYO], code)
    assert tokyo is not None
    assert tokyo.deleted is True
    kanagawa = _record(nodes[KANAGAWA], code)
    assert kanagawa is not None
    assert kanagawa.address == "神奈川県横浜市中区山下町1番地"
    centre = _record(nodes[CENTRE], code)
    assert centre is not None
    assert centre.municipality_code == "141003"
    assert centre.deleted is False
    with nodes[CENTRE].session_factory() as session:
        reasons = sorted(session.scalars(select(IdentityHistoryRow.reason)))
    assert reasons == ["A02", "A02", "C01"]
    # The relaying tiers kept nothing of the municipality-to-municipality message.
    for tier in (TOKYO, KANAGAWA, CENTRE):
        with nodes[tier].session_factory() as session:
            routed = list(session.scalars(select(OutboxRow.body).where(OutboxRow.kind == "routed")))
        assert all(body == {} for body in routed)


def test_disconnected_municipality_sends_nothing_until_it_connects(network: Build) -> None:
    nodes = network(NISHITOKYO, TOKYO, CENTRE, **{NISHITOKYO: {"participation": "disconnected"}})
    town = nodes[NISHITOKYO]
    clerk = make_actor(town)
    code = move_in_household(town, clerk, person()).records[0].record.resident_code
    with town.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(OutboxRow)) == 0
    with pytest.raises(Conflict):
        initial_load(town)
    town.settings.participation = "connected"
    assert initial_load(town) == 1
    drain(nodes)
    centre = _record(nodes[CENTRE], code)
    assert centre is not None
    assert centre.last_reason == "S01"


def test_opted_out_resident_is_not_held_upstream(network: Build) -> None:
    nodes = network(NISHITOKYO, TOKYO, CENTRE, **{NISHITOKYO: {"allow_opt_out": True}})
    town = nodes[NISHITOKYO]
    clerk = make_actor(town)
    code = move_in_household(town, clerk, person()).records[0].record.resident_code
    drain(nodes)
    assert _record(nodes[CENTRE], code) is not None
    set_upstream_opt_out(town, actor=clerk, request=_opt_out(code))
    register.file_name_change(
        town,
        actor=clerk,
        resident_code=code,
        family_name="髙橋",
        given_name="太郎",
        family_name_kana="タカハシ",
        given_name_kana="タロウ",
        changed_on=date(2026, 11, 26),
        filed_on=date(2026, 11, 26),
    )
    drain(nodes)
    for tier in (TOKYO, CENTRE):
        assert _record(nodes[tier], code) is None
        with nodes[tier].session_factory() as session:
            assert session.scalar(select(func.count()).select_from(IdentityHistoryRow)) == 0


def test_opt_out_needs_the_municipality_to_allow_it(network: Build) -> None:
    nodes = network(NISHITOKYO, TOKYO, CENTRE)
    town = nodes[NISHITOKYO]
    clerk = make_actor(town, Role.CLERK)
    code = move_in_household(town, clerk, person()).records[0].record.resident_code
    with pytest.raises(Conflict) as error:
        set_upstream_opt_out(town, actor=clerk, request=_opt_out(code))
    assert error.value.code == "JUKI-NET-021"


def test_initial_load_in_chunks_sends_every_record_once(network: Build) -> None:
    nodes = network(NISHITOKYO, TOKYO, CENTRE, **{NISHITOKYO: {"participation": "disconnected"}})
    town = nodes[NISHITOKYO]
    clerk = make_actor(town)
    codes = [
        move_in_household(town, clerk, person(family=f, family_kana=k))
        .records[0]
        .record.resident_code
        for f, k in (
            ("山田", "ヤマダ"),
            ("佐藤", "サトウ"),
            ("鈴木", "スズキ"),
            ("高橋", "タカハシ"),
            ("田中", "タナカ"),
        )
    ]
    register.file_death(
        town,
        actor=clerk,
        resident_code=codes[0],
        died_on=date(2026, 11, 25),
        filed_on=date(2026, 11, 26),
    )
    town.settings.participation = "connected"
    assert initial_load(town, chunk=2) == 5
    drain(nodes)
    with nodes[CENTRE].session_factory() as session:
        held = {r.resident_code: r.deleted for r in session.scalars(select(IdentityRecordRow))}
        history = session.scalar(select(func.count()).select_from(IdentityHistoryRow))
    assert held == {code: code == codes[0] for code in codes}
    assert history == 5
