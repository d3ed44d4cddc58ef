"""Bringing up a node: its first three operators and their cards, once.

Before ``jukinet bootstrap`` nobody can sign in; after it every account is added by a signed-in
security officer and every card issued by a signed-in card administrator. So the first operators
are exactly those three duties — a system administrator (the machine: terminal CA, PKI, code
pools), a security officer (accounts, terminals) and a card administrator (operator cards) —
each with a card of their own, registered and lent in the same transaction: on a production
node nobody signs in without one. Development and test nodes may leave the cards out.

Refused once any operator exists (the inactive accounts server-side jobs write as do not count).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from jukinet.config import DEVELOPMENT_ENVIRONMENTS
from jukinet.domain.errors import Conflict, ValidationError
from jukinet.domain.names import validate_name
from jukinet.domain.operator_events import OperatorEvent
from jukinet.domain.operators import Actor, Role, validate_password, validate_username
from jukinet.services.context import ServiceContext
from jukinet.services.operator_security.cards import add_token_card, lend
from jukinet.services.operator_security.events import log_event
from jukinet.services.operators import (
    NO_PASSWORD,
    OperatorView,
    operator_view,
    password_hasher,
)
from jukinet.storage.tables import OperatorRow

#: The duties a node's first operators hold, one each, in this order.
FIRST_ROLES: tuple[Role, ...] = (
    Role.SYSTEM_ADMINISTRATOR,
    Role.SECURITY_OFFICER,
    Role.CARD_ADMINISTRATOR,
)


@dataclass(frozen=True, slots=True)
class FirstOperator:
    """One of the first operators, and the PKCS#11 card made for them (its public key)."""

    role: Role
    username: str
    display_name: str
    password: str
    card_serial: str | None = None
    card_public_key_der: bytes | None = None


def ensure_no_operators(node: ServiceContext) -> None:
    """Refuse (JUKI-AUTH-050) once any operator exists: bootstrap happens once."""
    with node.uow() as uow:
        _refuse_if_any(uow.operators.all())


def _refuse_if_any(rows: Sequence[OperatorRow]) -> None:
    if any(row.password_hash != NO_PASSWORD for row in rows):
        raise Conflict(
            "JUKI-AUTH-050",
            ja="操作者が既に登録されているため、初期設定はできません。"
            "操作者の追加はセキュリティ責任者が行います。",
            en="Operators already exist, so bootstrap is refused; a security officer adds "
            "accounts.",
            field="username",
        )


def check_first(
    node: ServiceContext, first: Sequence[FirstOperator], *, passwords: bool = True
) -> None:
    """Refuse now what :func:`bootstrap_operators` would refuse (before any card is made):
    operators already there, the wrong duties, bad names or passwords (unless ``passwords`` is
    false: not asked for yet), cards missing."""
    ensure_no_operators(node)
    if tuple(one.role for one in first) != FIRST_ROLES:
        raise ValidationError(
            "JUKI-AUTH-051",
            ja="最初の操作者は、システム管理者・セキュリティ責任者・カード管理者の3人です。",
            en="The first operators are three: a system administrator, a security officer "
            "and a card administrator.",
            field="role",
        )
    if len({one.username for one in first}) != len(first):
        raise ValidationError(
            "JUKI-AUTH-051",
            ja="最初の3人には別々のユーザー名が必要です（職務は兼ねられません）。",
            en="The first three operators need three different usernames (one duty each).",
            field="username",
        )
    for one in first:
        validate_username(one.username)
        validate_name(one.display_name, field="display_name", max_length=60)
        if passwords:
            validate_password(one.password)
    with_cards = [one.card_serial is not None for one in first]
    serials = {one.card_serial for one in first}
    if any(with_cards) and (not all(with_cards) or len(serials) != len(first)):
        raise ValidationError(
            "JUKI-AUTH-052",
            ja="3人それぞれに別のカードが必要です。",
            en="Each of the three needs a card of their own.",
            field="card",
        )
    if not any(with_cards) and node.settings.environment not in DEVELOPMENT_ENVIRONMENTS:
        raise ValidationError(
            "JUKI-AUTH-052",
            ja="本番環境では、最初の3人にもそれぞれ操作者カードが必要です。",
            en="On a production node the first three operators need their operator cards too.",
            field="card",
        )


def bootstrap_operators(
    node: ServiceContext,
    *,
    first: Sequence[FirstOperator],
    terminal_id: str | None = None,
) -> list[OperatorView]:
    """Create the node's first operators and register and lend their cards, in one transaction.

    Run once on the server's console (``jukinet bootstrap``) after ``jukinet db upgrade``; the
    cards are registered and lent in the card administrator's name.
    """
    check_first(node, first)
    if any(one.card_serial is not None and not one.card_public_key_der for one in first):
        raise ValidationError(
            "JUKI-AUTH-052",
            ja="カードの公開鍵がありません。",
            en="A card's public key is missing.",
            field="card",
        )
    accounts = [
        (
            one,
            validate_username(one.username),
            validate_name(one.display_name, field="display_name", max_length=60),
            validate_password(one.password),
        )
        for one in first
    ]
    hasher = password_hasher(node)
    hashes = [hasher.hash(secret) for *_, secret in accounts]
    with node.uow() as uow:
        _refuse_if_any(uow.operators.all())
        rows: list[OperatorRow] = []
        for (one, name, display, _secret), password_hash in zip(accounts, hashes, strict=True):
            row = uow.operators.add(
                OperatorRow(
                    username=name,
                    display_name=display,
                    role=one.role.value,
                    password_hash=password_hash,
                    active=True,
                    created_at=node.now(),
                )
            )
            rows.append(row)
            log_event(
                node,
                uow.session,
                OperatorEvent.BOOTSTRAPPED,
                actor=name,
                text=f"{name} ({one.role.value})",
                terminal=terminal_id,
            )
        card_administrator = rows[FIRST_ROLES.index(Role.CARD_ADMINISTRATOR)]
        actor = Actor(
            operator_id=card_administrator.id,
            username=card_administrator.username,
            role=Role.CARD_ADMINISTRATOR,
            terminal_id=terminal_id,
        )
        for one, row in zip(first, rows, strict=True):
            if one.card_serial is None or one.card_public_key_der is None:
                continue
            card = add_token_card(
                node,
                uow.session,
                actor,
                serial=one.card_serial,
                public_key_der=one.card_public_key_der,
            )
            uow.session.flush()
            lend(node, uow.session, actor, card, row)
        views = [operator_view(row) for row in rows]
        uow.commit()
        return views
