"""Names across the network (issue 14 item 5): a name with characters outside JIS X 0213 keeps
the MJ identifiers of its glyphs on the register, in the sealed identity notice, at the
prefecture and the centre, and in an agency's answer; search on the folded key still finds it.
On both databases, over real mutual TLS.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import func, select

from jukinet.domain.errors import FieldErrors
from jukinet.services import reading
from jukinet.services.context import ServiceContext
from jukinet.services.register.inputs import PersonInput
from jukinet.storage.tables import (
    IdentityHistoryRow,
    IdentityRecordRow,
    InboxRow,
    OutboxRow,
    ResidentRow,
)
from tests.integration.network.test_provision import PENSION, World, world
from tests.support.factories import make_actor, move_in_household, person
from tests.support.network import drain, sender

NISHITOKYO = "municipality:132292"
TOKYO = "prefecture:13"
CENTRE = "national:jlis"
Build = Callable[..., dict[str, ServiceContext]]

TSUCHIYOSHI = "\U00020bb7"  # 𠮷
FAMILY_MJ = "髙:MJ028902"
GIVEN_MJ = f"{TSUCHIYOSHI}:MJ032129"

__all__ = ["world"]  # the agency world of test_provision, used here as a fixture


def _takahashi() -> PersonInput:
    return person(
        family="髙橋", given=f"{TSUCHIYOSHI}子", family_kana="タカハシ", given_kana="ヨシコ"
    )


def _held(node: ServiceContext, code: str) -> IdentityRecordRow | None:
    with node.session_factory() as session:
        return session.get(IdentityRecordRow, code)


def test_the_identifiers_are_stored_and_travel_to_prefecture_and_centre(network: Build) -> None:
    nodes = network(NISHITOKYO, TOKYO, CENTRE)
    town = nodes[NISHITOKYO]
    clerk = make_actor(town)
    record = move_in_household(town, clerk, _takahashi()).records[0].record
    code = record.resident_code
    assert (record.name.family_mj, record.name.given_mj) == (FAMILY_MJ, GIVEN_MJ)
    with town.session_factory() as session:
        row = session.scalars(select(ResidentRow).where(ResidentRow.resident_code == code)).one()
        assert (row.family_name_mj, row.given_name_mj) == (FAMILY_MJ, GIVEN_MJ)
        notice = session.scalars(select(OutboxRow.body)).one()
    assert notice["identity"]["family_name_mj"] == FAMILY_MJ
    assert notice["identity"]["given_name_mj"] == GIVEN_MJ

    drain(nodes)
    for tier in (TOKYO, CENTRE):
        held = _held(nodes[tier], code)
        assert held is not None, tier
        assert (held.family_name, held.given_name) == ("髙橋", f"{TSUCHIYOSHI}子")
        assert (held.family_name_mj, held.given_name_mj) == (FAMILY_MJ, GIVEN_MJ)
        with nodes[tier].session_factory() as session:
            history = session.scalars(select(IdentityHistoryRow.identity)).one()
        assert history["family_name_mj"] == FAMILY_MJ

    # Search on the folded key still finds the record, at the counter: 高橋 finds 髙橋.
    found = reading.search_residents(town, actor=clerk, query=reading.SearchQuery(name="高橋吉子"))
    assert [f.record.resident_code for f in found] == [code]


def test_a_tampered_identifier_in_transit_fails_the_origin_seal(network: Build) -> None:
    nodes = network(NISHITOKYO, TOKYO, CENTRE)
    town, tokyo, centre = nodes[NISHITOKYO], nodes[TOKYO], nodes[CENTRE]
    code = move_in_household(town, make_actor(town), _takahashi()).records[0].record.resident_code
    link = sender(town, TOKYO)
    try:
        assert link.deliver_once().sent == 1
    finally:
        link.close()
    # Tokyo swaps 髙 for another MJ glyph of the same character before relaying.
    with tokyo.session_factory() as session, session.begin():
        relayed = session.scalars(select(OutboxRow).where(OutboxRow.recipient == CENTRE)).one()
        genuine = relayed.body
        relayed.body = genuine | {
            "identity": genuine["identity"] | {"family_name_mj": "髙:MJ028903"}
        }
    drain(nodes)
    assert _held(centre, code) is None
    with centre.session_factory() as session:
        (refused,) = session.scalars(select(InboxRow).where(InboxRow.status == "refused")).all()
    assert refused.reason == f"origin signature refused: the origin signature is not {NISHITOKYO}'s"
    # Tokyo itself holds the genuine identifiers it checked under the seal.
    held = _held(tokyo, code)
    assert held is not None
    assert held.family_name_mj == FAMILY_MJ


def test_a_name_without_an_mj_identifier_is_refused_and_nothing_is_stored(
    network: Build,
) -> None:
    nodes = network(NISHITOKYO, TOKYO, CENTRE)
    town = nodes[NISHITOKYO]
    clerk = make_actor(town)
    with town.session_factory() as session:
        before = session.scalar(select(func.count()).select_from(ResidentRow))
    aj1 = "葛\U000e0100"  # an Adobe-Japan1 sequence: IPAmj / MJ has no glyph for it
    with pytest.raises(FieldErrors) as refused:
        move_in_household(town, clerk, person(family=f"{aj1}西", family_kana="カサイ"))
    assert refused.value.code == "JUKI-NAME-021"
    assert "U+845B+U+E0100" in refused.value.message_en
    with town.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(ResidentRow)) == before
        assert session.scalar(select(func.count()).select_from(OutboxRow)) == 0


def test_an_agency_answer_carries_the_identifiers_and_folded_search_finds_them(
    world: World,
) -> None:
    with world.client("agency:soumu-onkyu") as client:
        by_code = client.post(
            f"{world.national_url}/provision/v1/residents/lookup",
            json={
                "affair_code": PENSION,
                "officer": "恩給 太郎",
                "resident_codes": [world.deceased],
            },
        )
        by_items = client.post(
            f"{world.national_url}/provision/v1/residents/search",
            json={
                "affair_code": PENSION,
                "officer": "恩給 太郎",
                "name": "高橋一郎",
                "birth_date": date(1950, 1, 2).isoformat(),
                "address": "東京都西東京市",
            },
        )
    assert by_code.status_code == 200, by_code.text
    name = by_code.json()["results"][0]["record"]["name"]
    assert (name["family"], name["family_mj"]) == ("髙橋", FAMILY_MJ)
    assert "given_mj" not in name  # 一郎 is within JIS X 0213
    assert by_items.status_code == 200, by_items.text
    candidates = {
        c["record"]["resident_code"]: c["record"]["name"] for c in by_items.json()["candidates"]
    }
    # 高橋一郎 finds 髙橋一郎 on the folded key; each answer names its own glyphs.
    assert candidates[world.deceased]["family_mj"] == FAMILY_MJ
    assert "family_mj" not in candidates[world.kana_twin]  # 高 is within JIS X 0213
