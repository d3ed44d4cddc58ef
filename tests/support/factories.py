"""Factories for operators, households and residents, built through the real services."""

from __future__ import annotations

import random
from datetime import date
from typing import Any, cast

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from jukinet.domain.codes import random_resident_codes
from jukinet.domain.identity import IdentityInfo
from jukinet.domain.operators import Actor, Role
from jukinet.domain.register import Relationship, Sex
from jukinet.services.codes import allot_codes
from jukinet.services.context import ServiceContext
from jukinet.services.identity_store import apply_snapshot
from jukinet.services.operators import add_operator
from jukinet.services.register import ChangeResult, MoveIn, PersonInput, file_move_in
from jukinet.storage.tables import OperatorCardRow
from tests.support.cards import (
    SoftAuthenticator,
    TokenCard,
    api_token,
    lend_security_key,
    lend_token_card,
    page_sign_in,
)

PASSWORD = "correct horse battery"


def make_actor(node: ServiceContext, role: Role = Role.CLERK, username: str | None = None) -> Actor:
    """Create an operator with ``role``; the actor services see (sign-in is tested apart)."""
    name = username or f"{role.value.replace('_', '')}{random.randrange(10**6)}"
    view = add_operator(
        node, actor=None, username=name, display_name="試験 職員", role=role, password=PASSWORD
    )
    return Actor(
        operator_id=view.id,
        username=view.username,
        role=role,
        terminal_id="loopback-demo",
        display_name=view.display_name,
    )


def person(
    *,
    family: str = "山田",
    given: str = "太郎",
    family_kana: str = "ヤマダ",
    given_kana: str = "タロウ",
    birth_date: date = date(1980, 4, 1),
    sex: Sex = Sex.MALE,
    relationship: Relationship = Relationship.HEAD,
    code: str | None = None,
    rng: random.Random | None = None,
) -> PersonInput:
    """A person arriving from elsewhere; a random valid resident code unless given one."""
    if code is None:
        code = random_resident_codes(rng or random.Random(), 1)[0]
    return PersonInput(
        family_name=family,
        given_name=given,
        family_name_kana=family_kana,
        given_name_kana=given_kana,
        birth_date=birth_date,
        sex=sex,
        relationship=relationship,
        resident_code=code,
        domicile="東京都千代田区千代田1番",
        domicile_head=family + given,
    )


def move_in_household(
    node: ServiceContext,
    actor: Actor,
    *persons: PersonInput,
    address: str = "東京都西東京市泉町一丁目2番3号",
    moved_on: date = date(2026, 11, 20),
    filed_on: date = date(2026, 11, 26),
) -> ChangeResult:
    """A household moving in from another municipality."""
    return file_move_in(
        node,
        actor=actor,
        move_in=MoveIn(
            persons=tuple(list(persons) or [person()]),
            address=address,
            previous_address="東京都国立市中一丁目1番1号",
            moved_on=moved_on,
            filed_on=filed_on,
        ),
    )


def with_pool(node: ServiceContext, count: int = 50) -> None:
    """Give the municipality some codes to draw from."""
    allot_codes(node, count=count, rng=random.Random(1234))


def node_of(client: TestClient) -> ServiceContext:
    """The node a test client's app serves."""
    app = cast(FastAPI, client.app)
    return cast(ServiceContext, app.state.node)


def api_headers(client: TestClient, username: str) -> dict[str, str]:
    """Sign in through the API (password and a token card lent on first use): bearer header."""
    node = node_of(client)
    key = (id(node), username)
    if key not in _TOKEN_CARDS or not _is_lent(node, _TOKEN_CARDS[key].serial, username):
        _TOKEN_CARDS[key] = lend_token_card(node, username)
    return {"Authorization": f"Bearer {api_token(client, username, PASSWORD, _TOKEN_CARDS[key])}"}


def sign_in_page(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    """Sign in on the pages with the password and a security key lent on first use."""
    node = node_of(client)
    key = (id(node), username)
    if key not in _SECURITY_KEYS or not _is_lent(node, _SECURITY_KEYS[key].serial, username):
        _SECURITY_KEYS[key] = lend_security_key(node, username)
    return page_sign_in(client, username, password, _SECURITY_KEYS[key])


def security_key_of(client: TestClient, username: str) -> SoftAuthenticator:
    """The security key :func:`sign_in_page` lent to ``username``."""
    node = node_of(client)
    return _SECURITY_KEYS[(id(node), username)]


def _is_lent(node: ServiceContext, serial: str, username: str) -> bool:
    # Objects' ids are reused between tests: the cache holds only while the card is lent here.
    with node.uow() as uow:
        card = uow.session.scalars(
            select(OperatorCardRow).where(OperatorCardRow.serial == serial)
        ).first()
        operator = uow.operators.by_username(username)
        return card is not None and operator is not None and card.operator_id == operator.id


_TOKEN_CARDS: dict[tuple[int, str], TokenCard] = {}
_SECURITY_KEYS: dict[tuple[int, str], SoftAuthenticator] = {}


def held_resident(node: ServiceContext, code: str) -> None:
    """A resident of Nishitokyo held at an upper tier, as its initial load would leave it."""
    info = IdentityInfo(
        resident_code=code,
        family_name="山田",
        given_name="太郎",
        family_name_kana="ヤマダ",
        given_name_kana="タロウ",
        birth_date=date(1980, 4, 1),
        sex="male",
        address="東京都西東京市泉町一丁目2番3号",
    )
    with node.uow() as uow:
        apply_snapshot(
            uow.session,
            info,
            municipality_code="132292",
            deleted=False,
            envelope_id="seed",
            now=node.now(),
        )
        uow.commit()
