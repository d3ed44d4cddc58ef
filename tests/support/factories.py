"""Factories for operators, households and residents, built through the real services."""

from __future__ import annotations

import random
from datetime import date

from jukinet.domain.codes import random_resident_codes
from jukinet.domain.identity import IdentityInfo
from jukinet.domain.operators import Actor, Role
from jukinet.domain.register import Relationship, Sex
from jukinet.services.codes import allot_codes
from jukinet.services.context import ServiceContext
from jukinet.services.identity_store import apply_snapshot
from jukinet.services.operators import add_operator, authenticate
from jukinet.services.register import ChangeResult, MoveIn, PersonInput, file_move_in

PASSWORD = "correct horse battery"


def make_actor(node: ServiceContext, role: Role = Role.CLERK, username: str | None = None) -> Actor:
    """Create an operator with ``role`` and sign them in."""
    name = username or f"{role.value.replace('_', '')}{random.randrange(10**6)}"
    add_operator(
        node, actor=None, username=name, display_name="試験 職員", role=role, password=PASSWORD
    )
    return authenticate(node, username=name, password=PASSWORD)


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


def api_headers(client: object, username: str) -> dict[str, str]:
    """Sign in through the API and return the bearer header."""
    response = client.post(
        "/api/v1/auth/token",  # type: ignore[attr-defined]
        json={"username": username, "password": PASSWORD},
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


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
