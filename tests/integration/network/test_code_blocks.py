"""Resident-code blocks allotted by the national centre over the network, on real nodes (both
backends): disjoint blocks, recorded at both ends; a code change draws from them; a
municipality on the network cannot allot its own; a hostile municipality cannot ask for
another's block (the origin is the signer)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date

import httpx
import pytest
from sqlalchemy import select

from jukinet.domain.errors import Conflict, ValidationError
from jukinet.domain.operators import Role
from jukinet.network.inbox import sign_document
from jukinet.services import register
from jukinet.services.code_blocks import (
    CODE_ALLOTTED,
    CODE_BLOCK_PATH,
    REQUEST_KIND,
    request_code_block,
)
from jukinet.services.codes import pool_size, refuse_own_allotment_on_the_network
from jukinet.services.context import ServiceContext
from jukinet.storage.participation_tables import CodeBlockRow
from jukinet.storage.tables import NetworkRejectionRow, ResidentCodeRow
from tests.support.factories import make_actor, move_in_household, person
from tests.support.snapshots import table_digests

NISHITOKYO = "municipality:132292"
CHIYODA = "municipality:131016"
YOKOHAMA = "municipality:141003"
TOKYO = "prefecture:13"
KANAGAWA = "prefecture:14"
CENTRE = "national:jlis"
Build = Callable[..., dict[str, ServiceContext]]


def _codes(node: ServiceContext, state: str) -> set[str]:
    with node.session_factory() as session:
        return set(
            session.scalars(select(ResidentCodeRow.code).where(ResidentCodeRow.state == state))
        )


def _blocks(node: ServiceContext) -> list[CodeBlockRow]:
    with node.session_factory() as session:
        return list(session.scalars(select(CodeBlockRow).order_by(CodeBlockRow.id)))


def test_the_centre_allots_disjoint_blocks_and_records_them(network: Build) -> None:
    nodes = network(NISHITOKYO, YOKOHAMA, TOKYO, KANAGAWA, CENTRE)
    town, city = nodes[NISHITOKYO], nodes[YOKOHAMA]
    first = request_code_block(town, actor=make_actor(town, Role.SYSTEM_ADMINISTRATOR), count=40)
    other = request_code_block(city, actor=make_actor(city, Role.SYSTEM_ADMINISTRATOR), count=30)
    second = request_code_block(town, actor=make_actor(town, Role.SYSTEM_ADMINISTRATOR), count=20)
    assert (first.pool_size, other.pool_size, second.pool_size) == (40, 30, 60)
    town_codes, city_codes = _codes(town, "available"), _codes(city, "available")
    assert len(town_codes) == 60
    assert len(city_codes) == 30
    assert not town_codes & city_codes
    at_centre = _blocks(nodes[CENTRE])
    assert [(b.municipality_code, b.size, b.via) for b in at_centre] == [
        ("132292", 40, TOKYO),
        ("141003", 30, KANAGAWA),
        ("132292", 20, TOKYO),
    ]
    assert _codes(nodes[CENTRE], CODE_ALLOTTED) == town_codes | city_codes
    received = _blocks(town)
    assert [b.block_id for b in received] == [first.block_id, second.block_id]
    assert all(b.received_at is not None for b in received)


def test_a_code_change_draws_from_the_centres_block(network: Build) -> None:
    nodes = network(NISHITOKYO, TOKYO, CENTRE)
    town = nodes[NISHITOKYO]
    request_code_block(town, actor=make_actor(town, Role.SYSTEM_ADMINISTRATOR), count=5)
    block = _codes(town, "available")
    clerk = make_actor(town)
    code = move_in_household(town, clerk, person()).records[0].record.resident_code
    result = register.change_resident_code(
        town, actor=clerk, resident_code=code, filed_on=date(2026, 11, 26)
    )
    new_code = result.records[0].record.resident_code
    assert new_code in block
    assert pool_size(town) == 4


def test_a_municipality_on_the_network_cannot_allot_its_own(network: Build) -> None:
    nodes = network(NISHITOKYO, TOKYO, CENTRE)
    with pytest.raises(Conflict) as raised:
        refuse_own_allotment_on_the_network(nodes[NISHITOKYO])
    assert raised.value.code == "JUKI-CODE-013"


def test_a_refused_request_changes_nothing_at_the_municipality(network: Build) -> None:
    nodes = network(NISHITOKYO, TOKYO, CENTRE)
    town = nodes[NISHITOKYO]
    admin = make_actor(town, Role.SYSTEM_ADMINISTRATOR)
    before = table_digests(town)
    for count in (0, 100_001):
        with pytest.raises(ValidationError) as raised:
            request_code_block(town, actor=admin, count=count)
        assert raised.value.code == "JUKI-CODE-020"
    assert table_digests(town) == before


def _post(node: ServiceContext, peer: str, body: dict[str, object]) -> httpx.Response:
    net = node.network
    assert net is not None
    with httpx.Client(verify=net.client_ssl_context(), timeout=30) as client:
        return client.post(net.peers[peer].rstrip("/") + CODE_BLOCK_PATH, json=body)


def _request(node: ServiceContext, municipality_code: str) -> dict[str, object]:
    assert node.network is not None
    return sign_document(
        {
            "kind": REQUEST_KIND,
            "municipality_code": municipality_code,
            "count": 10,
            "nonce": secrets.token_hex(8),
            "requested_at": node.now().isoformat(),
        },
        node.network,
    )


def test_a_municipality_cannot_ask_for_a_block_on_behalf_of_another(network: Build) -> None:
    nodes = network(NISHITOKYO, CHIYODA, TOKYO, CENTRE)
    hostile, victim = nodes[CHIYODA], nodes[NISHITOKYO]
    centre_before = table_digests(nodes[CENTRE], exclude={"network_rejections"})
    # 1. Naming the other municipality in a request it signs itself: the signature is not
    #    the named municipality's.
    forged = _post(hostile, TOKYO, {"request": _request(hostile, "132292")})
    assert forged.status_code == 403, forged.text
    # 2. Replaying a request the other municipality really signed: the origin is the signer,
    #    and it is not the caller.
    replayed = _post(hostile, TOKYO, {"request": _request(victim, "132292")})
    assert replayed.status_code == 403, replayed.text
    assert "only for itself" in replayed.text
    # 3. Going round the prefecture to the centre: only prefectures pass requests on.
    assert hostile.network is not None
    assert nodes[TOKYO].network is not None
    hostile.network.peers[CENTRE] = nodes[TOKYO].network.peers[CENTRE]
    direct = _post(hostile, CENTRE, {"request": _request(hostile, "131016")})
    assert direct.status_code == 403, direct.text
    assert table_digests(nodes[CENTRE], exclude={"network_rejections"}) == centre_before
    with nodes[TOKYO].session_factory() as session:
        reasons = list(session.scalars(select(NetworkRejectionRow.reason)))
    assert sum(r.startswith("code block:") for r in reasons) == 2
    assert _codes(victim, "available") == set()
