"""Residents with resident cards, for the portal's tests."""

from __future__ import annotations

from jukinet.domain.operators import Role
from jukinet.services.context import ServiceContext
from jukinet.services.resident_card import counter
from jukinet.services.resident_card.inputs import CardApplication, CardIssue, IdDocument
from tests.support.factories import make_actor, move_in_household, person, with_pool

PIN = "3141"


def issue_card(town: ServiceContext, family: str = "山田", given: str = "太郎") -> tuple[str, str]:
    """A resident moved in with a valid card (SoftHSM token): (resident code, card serial)."""
    with_pool(town)
    moved = move_in_household(town, make_actor(town), person(family=family, given=given))
    resident_code = moved.records[0].record.resident_code
    issuer = make_actor(town, Role.CARD_ISSUER)
    applied = counter.apply_for_card(
        town,
        actor=issuer,
        application=CardApplication(resident_code, counter.CardForm.NAME_ONLY),
    )
    counter.issue_card(
        town, actor=issuer, issue=CardIssue(applied.serial, PIN, PIN, IdDocument.PASSPORT)
    )
    return resident_code, applied.serial
