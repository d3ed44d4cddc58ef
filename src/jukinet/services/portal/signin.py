"""Signing in to the resident portal with the resident card.

The resident's own card reader (``jukinet card sign-in``) asks the portal for a one-time
challenge, the card signs it with its authentication key once its PIN is entered on the chip,
and the portal answers a one-time code the resident types into the browser. The browser then
holds an opaque session token; the database holds only digests of codes and tokens.

Every request re-reads the card in the register: a card suspended (loss report, from the portal
or by phone at the counter) or invalid ends the session at once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from jukinet.domain.errors import AuthenticationFailed, Conflict
from jukinet.domain.resident_card import NetworkStatus
from jukinet.services.context import ServiceContext
from jukinet.services.resident_card import records, terminal
from jukinet.services.resident_card.status import aware
from jukinet.services.resident_card.terminal import CardChallenge
from jukinet.storage.card_tables import ResidentCardRow
from jukinet.storage.portal_tables import PortalCodeRow, PortalSessionRow

#: Where the card was used, as its event trail and the access log name it.
PORTAL_PLACE: Final = "resident-portal"
#: How long a printed code may wait for the browser, and an idle session for its resident.
CODE_SECONDS: Final = 300
IDLE_SECONDS: Final = 900
#: Letters a resident can copy without confusion (no 0/O, 1/I/L).
_ALPHABET: Final = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_CODE_LENGTH: Final = 10


@dataclass(frozen=True, slots=True)
class PortalResident:
    """The signed-in resident of one request (never shown another's data)."""

    resident_id: int
    resident_code: str
    card_serial: str
    session_digest: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii", "replace")).hexdigest()


def _normalised(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())[:40]


def challenge(node: ServiceContext) -> CardChallenge:
    """A one-time challenge (two minutes) for the resident's card to sign."""
    return terminal.new_challenge(node)


def _not_here() -> Conflict:
    return Conflict(
        "JUKI-PORTAL-001",
        ja="このカードは他の市区町村が交付したものです。お住まいの市区町村のポータルを"
        "ご利用ください。",
        en="This card was issued by another municipality: use your own municipality's portal.",
        field="serial",
    )


def issue_code(node: ServiceContext, *, serial: str, challenge_id: str, signature: bytes) -> str:
    """Check the card's signature of the challenge; a one-time code for the browser.

    Refuses (and records) what :func:`terminal.authenticate_card` refuses, and a card of
    another municipality (its resident's portal is at home).
    """
    card = terminal.authenticate_card(
        node, serial=serial, challenge_id=challenge_id, signature=signature, place=PORTAL_PLACE
    )
    if not card.local or card.resident_id is None:
        raise _not_here()
    code = "".join(secrets.choice(_ALPHABET) for _ in range(_CODE_LENGTH))
    with node.session_factory() as session, session.begin():
        session.add(
            PortalCodeRow(
                digest=_digest(code),
                resident_id=card.resident_id,
                card_serial=serial,
                created_at=node.now(),
            )
        )
    return f"{code[:5]}-{code[5:]}"


def _bad_code() -> AuthenticationFailed:
    return AuthenticationFailed(
        "JUKI-PORTAL-002",
        ja="コードが正しくないか、有効期限（5分）が過ぎているか、既に使われています。"
        "カードでもう一度サインインしてください。",
        en="The code is wrong, older than five minutes, or already used: sign in with your "
        "card again.",
        field="code",
    )


def redeem_code(node: ServiceContext, *, code: str) -> str:
    """Exchange a one-time code for a session token (the code is then spent)."""
    now = node.now()
    with node.session_factory() as session, session.begin():
        row = session.get(PortalCodeRow, _digest(_normalised(code)))
        if row is None or row.used_at is not None:
            raise _bad_code()
        row.used_at = now
        if now - aware(row.created_at) > timedelta(seconds=CODE_SECONDS):
            # Spent all the same: an old code is never tried twice.
            session.commit()
            raise _bad_code()
        token = secrets.token_urlsafe(32)
        session.add(
            PortalSessionRow(
                digest=_digest(token),
                resident_id=row.resident_id,
                card_serial=row.card_serial,
                created_at=now,
                last_seen_at=now,
            )
        )
    return token


def signed_out() -> AuthenticationFailed:
    """No session (never signed in, signed out, or idle too long)."""
    return AuthenticationFailed(
        "JUKI-PORTAL-003",
        ja="サインインしていません（またはサインアウトしました）。カードでサインインしてください。",
        en="You are not signed in (or were signed out): sign in with your card.",
    )


def _card_stopped() -> AuthenticationFailed:
    return AuthenticationFailed(
        "JUKI-PORTAL-004",
        ja="カードが一時停止または無効になったため、サインアウトしました。",
        en="Your card was suspended or is no longer valid, so you were signed out.",
    )


def current_resident(node: ServiceContext, token: str | None) -> PortalResident:
    """The resident of a session token, checked against the card register on every request.

    Raises JUKI-PORTAL-003 without a live session and JUKI-PORTAL-004 (ending the session)
    once the card is suspended or no longer valid.
    """
    if not token:
        raise signed_out()
    now = node.now()
    with node.session_factory() as session, session.begin():
        row = session.get(PortalSessionRow, _digest(token[:100]))
        if row is None or row.ended_at is not None:
            raise signed_out()
        if now - aware(row.last_seen_at) > timedelta(seconds=IDLE_SECONDS):
            row.ended_at, row.ended_reason = now, "idle"
            session.commit()
            raise signed_out()
        card = session.scalars(
            select(ResidentCardRow).where(ResidentCardRow.serial == row.card_serial)
        ).one_or_none()
        usable = (
            card is not None
            and card.resident_id == row.resident_id
            and records.to_card(card).network_status(node.today()) is NetworkStatus.VALID
        )
        if card is None or not usable:
            row.ended_at, row.ended_reason = now, "card_stopped"
            session.commit()
            raise _card_stopped()
        row.last_seen_at = now
        return PortalResident(row.resident_id, card.resident_code, row.card_serial, row.digest)


def end_sessions_of_card(
    session: Session, serial: str, *, reason: str, node: ServiceContext
) -> int:
    """End every live portal session opened with card ``serial`` (same transaction)."""
    result = session.execute(
        update(PortalSessionRow)
        .where(PortalSessionRow.card_serial == serial, PortalSessionRow.ended_at.is_(None))
        .values(ended_at=node.now(), ended_reason=reason[:40])
    )
    return int(getattr(result, "rowcount", 0) or 0)


def sign_out(node: ServiceContext, token: str | None) -> None:
    """End the session of ``token`` (nothing happens for an unknown one)."""
    if not token:
        return
    with node.session_factory() as session, session.begin():
        row = session.get(PortalSessionRow, _digest(token[:100]))
        if row is not None and row.ended_at is None:
            row.ended_at, row.ended_reason = node.now(), "signed_out"
