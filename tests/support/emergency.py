"""Operators who sign in with their own card, for two-card emergency decisions."""

from __future__ import annotations

from datetime import datetime

from jukinet.domain.emergency import DisconnectProposal, LevelDecision
from jukinet.domain.operators import Actor, Role
from jukinet.services.context import ServiceContext
from jukinet.services.operator_security.signin import finish_card_signin, token_challenge
from jukinet.services.operator_security.terminals import console_terminal
from tests.support.cards import TokenCard, lend_token_card
from tests.support.factories import PASSWORD, make_actor


def carded(node: ServiceContext, role: Role, username: str | None = None) -> Actor:
    """A new operator in ``role`` with a token card lent, signed in with it just now."""
    plain = make_actor(node, role, username)
    card = lend_token_card(node, plain.username)
    return sign_in_with(node, plain.username, card)


def sign_in_with(node: ServiceContext, username: str, card: TokenCard) -> Actor:
    """A fresh card sign-in (the real challenge, the card's signature, a session opened)."""
    challenge_id, challenge = token_challenge(node)
    return finish_card_signin(
        node,
        username=username,
        password=PASSWORD,
        card_serial=card.serial,
        challenge_id=challenge_id,
        signature=card.sign(str(node.node_id), challenge),
        terminal=console_terminal(node, "console-test"),
        channel="cli",
    ).actor


def cut_of(
    scope: str, target: str = "", *, minutes: float = 1, reason: str = "侵入の疑い"
) -> DisconnectProposal:
    """A proposal to cut ``scope``/``target`` for ``minutes``."""
    return DisconnectProposal(
        action="activate", reason=reason, scope=scope, target=target, duration_minutes=minutes
    )


def decision(level: int, decided_at: datetime, *, scope: str = "node") -> LevelDecision:
    """The security council's decision on ``level``."""
    return LevelDecision(
        level=level,
        reason="ファイアウォールで攻撃を遮断",
        decided_by="統括責任者 山田一郎",
        decided_at=decided_at,
        minutes_ref=f"SC-2026-{level:02d}",
        scope=scope,
    )
