"""The register of operator cards (操作者カード台帳), kept by the card administrator.

Cards belong to the municipality and are lent per duty: registered (in stock), lent to one
operator, taken back (in stock again), or reported lost — revoked at once, and every session
opened with it ends on its next request. A replacement is a new card lent in its place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from sqlalchemy import select
from sqlalchemy.orm import Session
from webauthn.helpers import bytes_to_base64url

from jukinet.domain.errors import Conflict, NotFound, ValidationError
from jukinet.domain.operator_events import OperatorEvent
from jukinet.domain.operators import Actor, Permission
from jukinet.services.context import ServiceContext
from jukinet.services.operator_security.challenges import new_challenge, take_challenge
from jukinet.services.operator_security.events import log_event
from jukinet.services.operator_security.registration import (
    registration_options,
    verified_registration,
)
from jukinet.services.operator_security.signin import PKCS11, WEBAUTHN, expected_origins
from jukinet.services.operators import end_sessions
from jukinet.storage.tables import OperatorCardRow, OperatorRow

_SERIAL = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,31}$")


@dataclass(frozen=True, slots=True)
class CardView:
    """A card as the register shows it."""

    serial: str
    kind: str
    status: str
    holder: str | None
    note: str
    demo_enrolled: bool


def _serial(value: str) -> str:
    serial = value.strip().upper()
    if not _SERIAL.match(serial):
        raise ValidationError(
            "JUKI-CRD-001",
            ja="カード番号は英大文字・数字・ハイフンの3〜32文字で入力してください。",
            en="A card serial is 3–32 characters of A-Z, 0-9 and '-'.",
            field="serial",
        )
    return serial


def _new_card(
    node: ServiceContext,
    session: Session,
    actor: Actor,
    *,
    serial: str,
    kind: str,
    public_key: bytes,
    credential_id: str | None,
    sign_count: int,
) -> OperatorCardRow:
    if session.scalars(select(OperatorCardRow).where(OperatorCardRow.serial == serial)).first():
        raise Conflict(
            "JUKI-CRD-002",
            ja="このカード番号は既に登録されています。",
            en="A card with this serial is already registered.",
            field="serial",
        )
    now = node.now()
    row = OperatorCardRow(
        serial=serial,
        kind=kind,
        status="in_stock",
        credential_id=credential_id,
        public_key=public_key,
        sign_count=sign_count,
        registered_at=now,
        status_changed_at=now,
        note="",
    )
    session.add(row)
    log_event(
        node,
        session,
        OperatorEvent.CARD_REGISTERED,
        actor=actor.username,
        text=f"{serial} ({kind})",
        terminal=actor.terminal_id,
    )
    return row


def register_token_card(
    node: ServiceContext, *, actor: Actor, serial: str, public_key_der: bytes
) -> CardView:
    """Register a PKCS#11 card by its public key (Ed25519 or ECDSA P-256)."""
    actor.require(Permission.MANAGE_OPERATOR_CARDS)
    with node.uow() as uow:
        row = add_token_card(node, uow.session, actor, serial=serial, public_key_der=public_key_der)
        uow.commit()
        return _view(uow.session, row)


def add_token_card(
    node: ServiceContext, session: Session, actor: Actor, *, serial: str, public_key_der: bytes
) -> OperatorCardRow:
    """Add a PKCS#11 card in stock in the caller's transaction (the caller checks ``actor``)."""
    number = _serial(serial)
    try:
        key = serialization.load_der_public_key(public_key_der)
    except ValueError:
        key = None
    if not isinstance(key, ed25519.Ed25519PublicKey) and not (
        isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1"
    ):
        raise ValidationError(
            "JUKI-CRD-003",
            ja="カードの公開鍵は Ed25519 または ECDSA P-256 でなければなりません。",
            en="The card's public key must be Ed25519 or ECDSA P-256.",
            field="public_key",
        )
    return _new_card(
        node,
        session,
        actor,
        serial=number,
        kind=PKCS11,
        public_key=public_key_der,
        credential_id=None,
        sign_count=0,
    )


def security_key_options(node: ServiceContext, *, actor: Actor, serial: str) -> tuple[str, str]:
    """Start registering a FIDO2 security key as card ``serial``: (challenge id, options)."""
    actor.require(Permission.MANAGE_OPERATOR_CARDS)
    number = _serial(serial)
    with node.uow() as uow:
        challenge_id, challenge = new_challenge(
            node, uow.session, purpose="card-register", operator_id=actor.operator_id
        )
        options = registration_options(
            node,
            user_name=number,
            user_id=number.encode(),
            display_name=f"operator card {number}",
            challenge=challenge,
        )
        uow.commit()
        return challenge_id, options


def register_security_key(
    node: ServiceContext,
    *,
    actor: Actor,
    serial: str,
    challenge_id: str,
    credential: str,
    page_origin: str,
) -> CardView:
    """Finish registering a security key (its PIN verified) as a card in stock."""
    actor.require(Permission.MANAGE_OPERATOR_CARDS)
    number = _serial(serial)
    with node.uow() as uow:
        challenge = take_challenge(
            node, uow.session, challenge_id, purpose="card-register", operator_id=actor.operator_id
        )
        verified = verified_registration(
            node,
            credential=credential,
            challenge=challenge,
            origins=expected_origins(node, page_origin),
        )
        if verified is None:
            raise ValidationError(
                "JUKI-CRD-004",
                ja="セキュリティキーを登録できませんでした。"
                "PIN を設定したキーでやり直してください。",
                en="The security key could not be registered; try again with a key that has a PIN.",
                field="credential",
            )
        row = _new_card(
            node,
            uow.session,
            actor,
            serial=number,
            kind=WEBAUTHN,
            public_key=verified.credential_public_key,
            credential_id=bytes_to_base64url(verified.credential_id),
            sign_count=verified.sign_count,
        )
        uow.commit()
        return _view(uow.session, row)


def _card(session: Session, serial: str) -> OperatorCardRow:
    row = session.scalars(
        select(OperatorCardRow).where(OperatorCardRow.serial == serial.strip().upper())
    ).first()
    if row is None:
        raise NotFound(
            "JUKI-CRD-005",
            ja="そのカードは登録されていません。",
            en="No such card.",
            field="serial",
        )
    return row


def _wrong_state(row: OperatorCardRow, wanted: str) -> Conflict:
    return Conflict(
        "JUKI-CRD-006",
        ja=f"このカードの状態（{row.status}）ではその操作はできません。",
        en=f"The card is {row.status}; it must be {wanted} for this.",
        field="serial",
    )


def lend_card(node: ServiceContext, *, actor: Actor, serial: str, username: str) -> CardView:
    """Lend a card in stock to an operator for their duty."""
    actor.require(Permission.MANAGE_OPERATOR_CARDS)
    with node.uow() as uow:
        row = _card(uow.session, serial)
        if row.status != "in_stock":
            raise _wrong_state(row, "in stock")
        operator = uow.operators.by_username(username)
        if operator is None:
            raise NotFound(
                "JUKI-AUTH-013",
                ja="その操作者アカウントはありません。",
                en="No such operator account.",
                field="username",
            )
        lend(node, uow.session, actor, row, operator)
        uow.commit()
        return _view(uow.session, row)


def lend(
    node: ServiceContext,
    session: Session,
    actor: Actor,
    row: OperatorCardRow,
    operator: OperatorRow,
) -> None:
    """Lend the card ``row`` (in stock) to ``operator`` in the caller's transaction."""
    row.status = "lent"
    row.operator_id = operator.id
    row.status_changed_at = node.now()
    log_event(
        node,
        session,
        OperatorEvent.CARD_LENT,
        actor=actor.username,
        text=f"{row.serial} to {operator.username}",
        terminal=actor.terminal_id,
    )


def return_card(node: ServiceContext, *, actor: Actor, serial: str) -> CardView:
    """Take a lent card back (end of duty, transfer); its sessions end at once."""
    actor.require(Permission.MANAGE_OPERATOR_CARDS)
    with node.uow() as uow:
        row = _card(uow.session, serial)
        if row.status != "lent":
            raise _wrong_state(row, "lent")
        holder = uow.session.get(OperatorRow, row.operator_id) if row.operator_id else None
        row.status = "in_stock"
        row.operator_id = None
        row.status_changed_at = node.now()
        if holder is not None:
            end_sessions(node, uow.session, holder, reason=f"card {row.serial} returned")
        log_event(
            node,
            uow.session,
            OperatorEvent.CARD_RETURNED,
            actor=actor.username,
            text=f"{row.serial} from {holder.username if holder else '-'}",
            terminal=actor.terminal_id,
        )
        uow.commit()
        return _view(uow.session, row)


def report_lost(node: ServiceContext, *, actor: Actor, serial: str, note: str) -> CardView:
    """A lost card is revoked at once; every session opened with it ends now.

    The card administrator reports it, or the holder themselves.
    """
    with node.uow() as uow:
        row = _card(uow.session, serial)
        if row.operator_id != actor.operator_id:
            actor.require(Permission.MANAGE_OPERATOR_CARDS)
        if row.status == "lost":
            raise _wrong_state(row, "lent or in stock")
        text = note.strip()[:150]
        holder = uow.session.get(OperatorRow, row.operator_id) if row.operator_id else None
        row.status = "lost"
        row.status_changed_at = node.now()
        row.note = f"lost: {text}"[:200]
        if holder is not None:
            end_sessions(node, uow.session, holder, reason=f"card {row.serial} lost")
        log_event(
            node,
            uow.session,
            OperatorEvent.CARD_LOST,
            actor=actor.username,
            text=f"{row.serial} ({holder.username if holder else 'in stock'}): {text}",
            terminal=actor.terminal_id,
        )
        uow.commit()
        return _view(uow.session, row)


def replace_card(
    node: ServiceContext, *, actor: Actor, lost_serial: str, new_serial: str
) -> CardView:
    """Lend a card in stock to the holder of a lost card, in its place."""
    actor.require(Permission.MANAGE_OPERATOR_CARDS)
    with node.uow() as uow:
        lost = _card(uow.session, lost_serial)
        if lost.status != "lost" or lost.operator_id is None:
            raise _wrong_state(lost, "lost while lent")
        holder = uow.session.get(OperatorRow, lost.operator_id)
        username = holder.username if holder else ""
    return lend_card(node, actor=actor, serial=new_serial, username=username)


def list_cards(node: ServiceContext, *, actor: Actor) -> list[CardView]:
    """The whole register (card administrator)."""
    actor.require(Permission.MANAGE_OPERATOR_CARDS)
    with node.uow() as uow:
        rows = uow.session.scalars(select(OperatorCardRow).order_by(OperatorCardRow.serial))
        return [_view(uow.session, row) for row in rows]


def _view(session: Session, row: OperatorCardRow) -> CardView:
    holder = session.get(OperatorRow, row.operator_id) if row.operator_id else None
    return CardView(
        serial=row.serial,
        kind=row.kind,
        status=row.status,
        holder=holder.username if holder else None,
        note=row.note,
        demo_enrolled=row.demo_enrolled,
    )
