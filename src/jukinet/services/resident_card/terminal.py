"""A terminal authenticating a resident's card: the counter's PIN pad, or a service terminal.

The resident enters the PIN on the chip (the chip counts wrong ones and locks at three; the
register counts them too, and its count survives restarts); the card then signs a one-time
challenge of this node with its authentication key. A card this municipality issued is checked
against its own register; any other card's status and key come from the network by serial, so
a card suspended at Nishitokyo is refused at a Yokohama terminal as soon as the notice arrives.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from sqlalchemy.orm import Session

from jukinet.domain import resident_card as rules
from jukinet.domain.access_log import Action, ActorKind, Channel
from jukinet.domain.errors import AuthenticationFailed, Conflict, DomainError
from jukinet.domain.resident_card import NetworkStatus, issuer_of, validate_serial
from jukinet.network import resident_card_token as chip
from jukinet.services.context import ServiceContext
from jukinet.services.resident_card import records
from jukinet.services.resident_card.records import CardWork
from jukinet.services.resident_card.status import aware, check_card_status
from jukinet.storage.card_tables import ResidentCardRow
from jukinet.storage.tables import SigninChallengeRow

CHALLENGE_PURPOSE: Final = "card_auth"
CHALLENGE_SECONDS: Final = 120
_WRONG_PIN_CODES = frozenset({"JUKI-CARD-030", "JUKI-CARD-014"})


@dataclass(frozen=True, slots=True)
class CardChallenge:
    """A one-time challenge for a card to sign: its id and the exact bytes to sign."""

    challenge_id: str
    message: bytes


@dataclass(frozen=True, slots=True)
class AuthenticatedCard:
    """A card that proved itself: its serial and the municipality that holds it.

    ``resident_id`` and ``resident_code`` are known only when this municipality holds the card;
    a service receives neither (see the card services, which map a card to their own id).
    """

    serial: str
    municipality_code: str
    local: bool
    resident_id: int | None = None
    resident_code: str | None = None


def _work(node: ServiceContext, session: Session, place: str) -> CardWork:
    return CardWork(
        node=node,
        session=session,
        now=node.now(),
        actor=place,
        actor_kind=ActorKind.SYSTEM,
        place=place,
        channel=Channel.COUNTER,
    )


def _own_row(session: Session, serial: str) -> ResidentCardRow | None:
    return records.held_here(session, serial)


def record_pin_result(node: ServiceContext, *, serial: str, ok: bool, place: str) -> None:
    """Count a right or wrong PIN entered on one of this municipality's cards (own commit)."""
    validate_serial(serial)
    with node.uow() as uow:
        row = _own_row(uow.session, serial)
        if row is None:
            return
        work = _work(node, uow.session, place)
        before = records.to_card(row)
        after = rules.record_pin_success(before) if ok else rules.record_pin_failure(before)
        if after == before and ok:
            return
        records.copy_onto(after, row, now=work.now, by=row.updated_by)
        if not ok:
            work.event(row, "pin_locked" if after.pin_locked else "pin_failed", {})
            work.logged(row, action=Action.REFUSED, reason="card:wrong_pin")
        uow.commit()


@contextmanager
def open_chip(
    node: ServiceContext, *, serial: str, pin: str, place: str | None
) -> Iterator[chip.ResidentCardToken]:
    """Open one of this municipality's cards on its PIN pad, the register counting wrong PINs.

    A card the register holds as locked is refused before its chip is touched.
    """
    place = place or str(node.node_id)
    with node.uow() as uow:
        row = records.load(uow.session, node.municipality_code, serial)
        rules.require_usable(records.to_card(row), today=node.today())
    try:
        card = chip.ResidentCardToken.open(serial, pin)
    except AuthenticationFailed as error:
        if error.code in _WRONG_PIN_CODES:
            record_pin_result(node, serial=serial, ok=False, place=place)
        raise
    with card:
        record_pin_result(node, serial=serial, ok=True, place=place)
        yield card


def new_challenge(node: ServiceContext) -> CardChallenge:
    """A one-time challenge (valid two minutes) bound to this node."""
    challenge_id = secrets.token_urlsafe(24)
    nonce = secrets.token_bytes(32)
    with node.session_factory() as session, session.begin():
        session.add(
            SigninChallengeRow(
                id=challenge_id,
                purpose=CHALLENGE_PURPOSE,
                operator_id=None,
                challenge=nonce,
                created_at=node.now(),
            )
        )
    return CardChallenge(challenge_id, challenge_message(str(node.node_id), challenge_id, nonce))


def challenge_message(node: str, challenge_id: str, nonce: bytes) -> bytes:
    """The exact bytes a card signs: a fixed label, the node, the challenge id and its nonce."""
    return challenge_prefix(node) + challenge_id.encode() + b"\x00" + nonce


def challenge_prefix(node: str) -> bytes:
    """How every challenge of ``node`` begins (another node can tell whose challenge it is)."""
    return b"jukinet-card-auth\x00" + node.encode() + b"\x00"


def _refused(code: str, ja: str, en: str) -> AuthenticationFailed:
    return AuthenticationFailed(code, ja=ja, en=en)


def _take_challenge(node: ServiceContext, challenge_id: str) -> bytes:
    now = node.now()
    with node.session_factory() as session, session.begin():
        row = session.get(SigninChallengeRow, challenge_id[:64])
        if row is None or row.purpose != CHALLENGE_PURPOSE or row.used_at is not None:
            raise _refused(
                "JUKI-CARD-034",
                ja="認証の要求が無効です。最初からやり直してください。",
                en="The challenge is unknown or already used: start again.",
            )
        row.used_at = now
        created = aware(row.created_at)
        if now - created > timedelta(seconds=CHALLENGE_SECONDS):
            raise _refused(
                "JUKI-CARD-035",
                ja="認証の有効時間が過ぎました。最初からやり直してください。",
                en="The challenge has expired: start again.",
            )
        return challenge_message(str(node.node_id), challenge_id, bytes(row.challenge))


def verify_card_signature(public_key_der: bytes | None, message: bytes, signature: bytes) -> bool:
    """Whether a card's authentication key (DER) made ``signature`` (raw r‖s) of ``message``."""
    return _verify(public_key_der, message, signature)


def _verify(public_key_der: bytes | None, message: bytes, signature: bytes) -> bool:
    if public_key_der is None or len(signature) != 64:
        return False
    key = serialization.load_der_public_key(public_key_der)
    if not isinstance(key, ec.EllipticCurvePublicKey):
        return False
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    try:
        key.verify(der, message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def _bad_signature() -> AuthenticationFailed:
    return _refused(
        "JUKI-CARD-036",
        ja="カードを確認できませんでした（署名が一致しません）。",
        en="The card could not be verified: its signature does not match.",
    )


def _status_refusal(status: NetworkStatus | None) -> DomainError:
    if status is NetworkStatus.SUSPENDED:
        return Conflict(
            "JUKI-CARD-011",
            ja="このカードは一時停止中です（紛失届）。窓口で本人確認のうえ再開してください。",
            en="This card is suspended after a loss report; it is resumed in person at the "
            "counter.",
            field="serial",
        )
    if status is None:
        return Conflict(
            "JUKI-CARD-022",
            ja="このカード番号のカードはありません。",
            en="There is no card with this serial.",
            field="serial",
        )
    return Conflict(
        "JUKI-CARD-013",
        ja="このカードは無効です。",
        en="This card is no longer valid.",
        field="serial",
    )


def authenticate_card(
    node: ServiceContext,
    *,
    serial: str,
    challenge_id: str,
    signature: bytes,
    place: str,
) -> AuthenticatedCard:
    """Check a card that signed :func:`new_challenge`'s message at terminal ``place``.

    Refuses (and records) an unknown, suspended, invalid, expired or locked card, a used or
    expired challenge, and a signature the card's key did not make.
    """
    validate_serial(serial)
    message = _take_challenge(node, challenge_id)
    with node.session_factory() as session:
        held = _own_row(session, serial) is not None
    if held or issuer_of(serial) == node.municipality_code:
        return _authenticate_own(
            node, serial=serial, message=message, signature=signature, place=place
        )
    answer = check_card_status(node, serial=serial, asked_by=place)
    status = answer.effective(node.today())
    if status is not NetworkStatus.VALID or answer.municipality_code is None:
        raise _status_refusal(status)
    if not _verify(answer.auth_public_key, message, signature):
        raise _bad_signature()
    return AuthenticatedCard(serial=serial, municipality_code=answer.municipality_code, local=False)


def _authenticate_own(
    node: ServiceContext, *, serial: str, message: bytes, signature: bytes, place: str
) -> AuthenticatedCard:
    with node.uow() as uow:
        row = _own_row(uow.session, serial)
        if row is None:
            raise _status_refusal(None)
        work = _work(node, uow.session, place)
        card = records.to_card(row)
        problem: DomainError | None = None
        try:
            rules.require_usable(card, today=work.today)
        except DomainError as error:
            problem = error
        if problem is None and not _verify(row.auth_public_key, message, signature):
            problem = _bad_signature()
        if problem is not None:
            work.event(row, "refused", {"code": problem.code})
            work.logged(row, action=Action.REFUSED, reason=f"card:refused {problem.code}")
            uow.commit()
            raise problem
        work.event(row, "authenticated", {})
        work.logged(row, action=Action.READ, reason="card:authenticated")
        result = AuthenticatedCard(
            serial=serial,
            municipality_code=node.municipality_code,
            local=True,
            resident_id=row.resident_id,
            resident_code=row.resident_code,
        )
        uow.commit()
    return result
