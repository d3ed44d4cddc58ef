"""The agency officer's own card (職員カード): the second factor of the console's sign-in.

As for the counter's operators (:mod:`jukinet.services.operator_security.signin`), a page signs
in with a FIDO2 security key through WebAuthn, its PIN verified by the key (user verification
required). The card administrator lends a card to one officer of one recipient on the page
``/security/officer-cards`` (the key present: a WebAuthn registration ceremony, PIN verified,
:func:`lend_options` then :func:`lend_security_key`), or a supervisor by command (``jukinet
recipient officer-card-lend``) by the key's credential id and public key; both end in
:func:`lend_card`. A lost card (the page, or ``jukinet recipient officer-card-lost``) is revoked
at once and every session of its officer ends. Lending and loss are written to the access log as
the operators' cards are (:mod:`jukinet.services.operator_security.events`). After the password
(:func:`jukinet.services.agency_console.sign_in`) the session is only half open:
:func:`finish_card` verifies the key's signature over a one-time challenge and opens it; a
missing, wrong, lost or cloned card is refused with one answer (JUKI-AGC-021). On the demo's
nodes only (``demo_card_enrolment``), an officer without a card enrols the browser's own passkey
or security key as their card at the first sign-in, as the demo's operators do.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

import cbor2
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from webauthn import (
    base64url_to_bytes,
    generate_authentication_options,
    options_to_json,
    verify_authentication_response,
)
from webauthn.helpers import bytes_to_base64url, decode_credential_public_key
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.exceptions import (
    InvalidAuthenticationResponse,
    InvalidJSONStructure,
    InvalidPublicKeyStructure,
    UnsupportedPublicKeyType,
)
from webauthn.helpers.structs import PublicKeyCredentialDescriptor, UserVerificationRequirement

from jukinet.domain.errors import AuthenticationFailed, Conflict, NotFound, ValidationError
from jukinet.domain.operator_events import OperatorEvent
from jukinet.domain.operators import Actor, Permission
from jukinet.services.agency_console import NotSignedIn, hash_secret
from jukinet.services.context import ServiceContext
from jukinet.services.operator_security.challenges import new_challenge, take_challenge
from jukinet.services.operator_security.events import log_event
from jukinet.services.operator_security.registration import (
    registration_options,
    verified_registration,
)
from jukinet.services.operator_security.signin import expected_origins
from jukinet.storage.agency_tables import (
    AgencyOfficerCardRow,
    AgencyOfficerRow,
    AgencySessionRow,
)
from jukinet.storage.tables import RecipientRow

_SERIAL = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,31}$")
PURPOSE = "agency-card"
#: The challenge of the card administrator's registration ceremony (lending on the page).
LEND_PURPOSE = "agency-card-lend"


@dataclass(frozen=True, slots=True)
class OfficerCard:
    """A card as the administrator sees it."""

    serial: str
    recipient_id: str
    login: str
    status: str


class CardRefused(AuthenticationFailed):
    """A missing, wrong, lost or cloned card, or a signature without the PIN."""

    def __init__(self) -> None:
        super().__init__(
            "JUKI-AGC-021",
            ja="職員カードを確認できませんでした。貸与されたカードを使い、PINを正しく入力してください。",
            en="The officer card could not be verified: use the card lent to you and its PIN.",
        )


class NoCardLent(AuthenticationFailed):
    """The officer has no card: the console cannot be opened until one is lent."""

    def __init__(self) -> None:
        super().__init__(
            "JUKI-AGC-022",
            ja="この職員には職員カードが貸与されていません。管理者にカードの貸与を依頼してください。",
            en="No officer card is lent to this officer; ask the administrator to lend one.",
        )


class KeyNotRegistered(ValidationError):
    """The key's answer to the lending ceremony did not verify (no PIN, wrong page, broken)."""

    def __init__(self) -> None:
        super().__init__(
            "JUKI-AGC-031",
            ja="セキュリティキーを登録できませんでした。PIN を設定したキーで、PIN を入力して"
            "やり直してください。",
            en="The security key could not be registered; try again with a key that has a PIN, "
            "and enter it.",
            field="credential",
        )


def require_lender(actor: Actor) -> None:
    """Who lends and revokes officer cards: the card administrator (the page) or a supervisor
    of the recipients (the command line)."""
    if not actor.can(Permission.MANAGE_RECIPIENTS):
        actor.require(Permission.MANAGE_OPERATOR_CARDS)


def _serial(value: str) -> str:
    serial = value.strip().upper()
    if not _SERIAL.match(serial):
        raise ValidationError(
            "JUKI-AGC-023",
            ja="カード番号は英大文字・数字・ハイフンの3〜32文字で入力してください。",
            en="A card serial is 3–32 characters of A-Z, 0-9 and '-'.",
            field="serial",
        )
    return serial


def cose_key(public_key_der: bytes) -> bytes:
    """The COSE form (ES256) of an ECDSA P-256 public key given as DER."""
    try:
        key = serialization.load_der_public_key(public_key_der)
    except ValueError:
        key = None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise ValidationError(
            "JUKI-AGC-024",
            ja="職員カードの公開鍵は ECDSA P-256 でなければなりません。",
            en="The officer card's public key must be ECDSA P-256.",
            field="public_key",
        )
    numbers = key.public_numbers()
    return bytes(
        cbor2.dumps(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )
    )


def _officer(session: Session, recipient_id: str, login: str) -> AgencyOfficerRow:
    row = session.scalar(
        select(AgencyOfficerRow).where(
            AgencyOfficerRow.recipient_id == recipient_id, AgencyOfficerRow.login == login
        )
    )
    if row is None:
        raise NotFound(
            "JUKI-AGC-025",
            ja="その職員は登録されていません。",
            en="No such officer.",
            field="login",
        )
    return row


def lend_card(
    node: ServiceContext,
    *,
    actor: Actor,
    recipient_id: str,
    login: str,
    serial: str,
    credential_id: bytes,
    public_key_der: bytes,
) -> OfficerCard:
    """Lend the security key ``serial`` (its credential id and P-256 public key) to an officer."""
    require_lender(actor)
    with node.uow() as uow:
        card = _lend(
            node,
            uow.session,
            actor,
            recipient_id=recipient_id,
            login=login,
            serial=serial,
            credential_id=credential_id,
            public_key_der=public_key_der,
        )
        uow.commit()
    return card


def _lend(
    node: ServiceContext,
    session: Session,
    actor: Actor,
    *,
    recipient_id: str,
    login: str,
    serial: str,
    credential_id: bytes,
    public_key_der: bytes,
) -> OfficerCard:
    """Lend in the caller's transaction (the one input model of the command and the page)."""
    number = _serial(serial)
    cose = cose_key(public_key_der)
    if not 16 <= len(credential_id) <= 128:
        raise ValidationError(
            "JUKI-AGC-026",
            ja="クレデンシャルIDは16〜128バイトでなければなりません。",
            en="The credential id must be 16–128 bytes.",
            field="credential_id",
        )
    credential = bytes_to_base64url(credential_id)
    officer = _officer(session, recipient_id, login)
    taken = session.scalar(
        select(AgencyOfficerCardRow.id).where(
            (AgencyOfficerCardRow.serial == number)
            | (AgencyOfficerCardRow.credential_id == credential)
        )
    )
    if taken is not None:
        raise _taken()
    now = node.now()
    session.add(
        AgencyOfficerCardRow(
            serial=number,
            officer_id=officer.id,
            credential_id=credential,
            public_key=cose,
            sign_count=0,
            status="lent",
            lent_at=now,
            lent_by=actor.username[:80],
            status_changed_at=now,
            note="",
        )
    )
    log_event(
        node,
        session,
        OperatorEvent.OFFICER_CARD_LENT,
        actor=actor.username,
        text=f"{number} to {login} of {recipient_id}",
        terminal=actor.terminal_id,
    )
    return OfficerCard(serial=number, recipient_id=recipient_id, login=login, status="lent")


def report_lost(node: ServiceContext, *, actor: Actor, serial: str, note: str = "") -> OfficerCard:
    """Revoke a lost card at once; every session of its officer ends now."""
    require_lender(actor)
    with node.uow() as uow:
        card = uow.session.scalar(
            select(AgencyOfficerCardRow).where(AgencyOfficerCardRow.serial == _serial(serial))
        )
        if card is None:
            raise NotFound(
                "JUKI-AGC-028",
                ja="そのカードは登録されていません。",
                en="No such card.",
                field="serial",
            )
        if card.status == "lost":
            raise Conflict(
                "JUKI-AGC-029",
                ja="このカードは既に紛失届が出ています。",
                en="This card is already reported lost.",
                field="serial",
            )
        text = note.strip()[:150]
        card.status = "lost"
        card.status_changed_at = node.now()
        card.note = f"lost: {text}"[:200]
        uow.session.execute(
            delete(AgencySessionRow).where(AgencySessionRow.officer_id == card.officer_id)
        )
        officer = uow.session.get(AgencyOfficerRow, card.officer_id)
        log_event(
            node,
            uow.session,
            OperatorEvent.OFFICER_CARD_LOST,
            actor=actor.username,
            text=f"{card.serial} ({officer.login if officer else '-'}): {text}",
            terminal=actor.terminal_id,
        )
        uow.commit()
        return OfficerCard(
            serial=card.serial,
            recipient_id=officer.recipient_id if officer else "",
            login=officer.login if officer else "",
            status="lost",
        )


# ---------------------------------------------------------------------------------------------
# The card administrator's page: the register, and lending with the key present
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LentCard:
    """One card of an officer as the register shows it (lost ones stay, marked)."""

    serial: str
    status: str
    lent_at: datetime
    lent_by: str | None
    status_changed_at: datetime
    note: str


@dataclass(frozen=True, slots=True)
class OfficerEntry:
    """An officer of a recipient and every card ever lent to them."""

    recipient_id: str
    #: The organisation's registered name (``総務省 恩給業務``), for the page.
    recipient_name: str
    login: str
    display_name: str
    active: bool
    cards: tuple[LentCard, ...]


def officer_register(node: ServiceContext, *, actor: Actor) -> list[OfficerEntry]:
    """Every officer at this node, by recipient then login, with their cards (newest first)."""
    require_lender(actor)
    with node.uow() as uow:
        officers = uow.session.scalars(
            select(AgencyOfficerRow).order_by(AgencyOfficerRow.recipient_id, AgencyOfficerRow.login)
        ).all()
        names = {
            row.id: row.name
            for row in uow.session.execute(select(RecipientRow.id, RecipientRow.name))
        }
        cards: dict[int, list[LentCard]] = {}
        for card in uow.session.scalars(
            select(AgencyOfficerCardRow).order_by(
                AgencyOfficerCardRow.lent_at.desc(), AgencyOfficerCardRow.id.desc()
            )
        ):
            cards.setdefault(card.officer_id, []).append(
                LentCard(
                    serial=card.serial,
                    status=card.status,
                    lent_at=card.lent_at,
                    lent_by=card.lent_by,
                    status_changed_at=card.status_changed_at,
                    note=card.note,
                )
            )
        return [
            OfficerEntry(
                recipient_id=row.recipient_id,
                recipient_name=names.get(row.recipient_id, row.recipient_id),
                login=row.login,
                display_name=row.display_name,
                active=row.active,
                cards=tuple(cards.get(row.id, ())),
            )
            for row in officers
        ]


def _taken() -> Conflict:
    return Conflict(
        "JUKI-AGC-027",
        ja="このカード番号またはセキュリティキーは既に登録されています。",
        en="This card serial or security key is already registered.",
        field="serial",
    )


def _serial_free(session: Session, serial: str) -> None:
    if session.scalar(select(AgencyOfficerCardRow.id).where(AgencyOfficerCardRow.serial == serial)):
        raise _taken()


def lend_options(
    node: ServiceContext, *, actor: Actor, recipient_id: str, login: str, serial: str
) -> tuple[str, str]:
    """Start lending the key in front of the administrator: (challenge id, creation options).

    The officer and the serial are checked first, so a mistake is shown before the key is
    touched; the ceremony is the operators' own
    (:func:`jukinet.services.operator_security.registration.registration_options`).
    """
    require_lender(actor)
    number = _serial(serial)
    with node.uow() as uow:
        officer = _officer(uow.session, recipient_id, login)
        _serial_free(uow.session, number)
        challenge_id, challenge = new_challenge(
            node, uow.session, purpose=LEND_PURPOSE, operator_id=actor.operator_id
        )
        options = registration_options(
            node,
            user_name=officer.login,
            user_id=f"officer-{officer.id}".encode(),
            display_name=officer.display_name,
            challenge=challenge,
            # An officer card is an ECDSA P-256 key (the command line's input model too).
            algorithms=[COSEAlgorithmIdentifier.ECDSA_SHA_256],
        )
        uow.commit()
        return challenge_id, options


def public_key_der(cose: bytes) -> bytes:
    """The DER (SubjectPublicKeyInfo) form of a key's COSE public key, if ECDSA P-256."""
    try:
        decoded = decode_credential_public_key(cose)
    except (InvalidPublicKeyStructure, UnsupportedPublicKeyType, ValueError, KeyError):
        decoded = None
    x, y = getattr(decoded, "x", b""), getattr(decoded, "y", b"")
    if not (isinstance(x, bytes) and isinstance(y, bytes) and len(x) == len(y) == 32):
        # Not EC2 on P-256 (an Ed25519 or RSA key): cose_key refuses it with its message.
        return b""
    try:
        key = ec.EllipticCurvePublicNumbers(
            int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1()
        ).public_key()
    except ValueError:
        return b""
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def lend_security_key(
    node: ServiceContext,
    *,
    actor: Actor,
    recipient_id: str,
    login: str,
    serial: str,
    challenge_id: str,
    credential: str,
    page_origin: str,
) -> OfficerCard:
    """Finish the ceremony: the new key (its PIN verified) is lent through :func:`lend_card`.

    One transaction: a refused answer (no PIN, another page's, a key already lent) leaves
    storage as it was, the challenge included.
    """
    require_lender(actor)
    with node.uow() as uow:
        challenge = take_challenge(
            node, uow.session, challenge_id, purpose=LEND_PURPOSE, operator_id=actor.operator_id
        )
        verified = verified_registration(
            node,
            credential=credential,
            challenge=challenge,
            origins=expected_origins(node, page_origin),
        )
        if verified is None:
            raise KeyNotRegistered()
        card = _lend(
            node,
            uow.session,
            actor,
            recipient_id=recipient_id,
            login=login,
            serial=serial,
            credential_id=verified.credential_id,
            public_key_der=public_key_der(verified.credential_public_key),
        )
        uow.commit()
        return card


def _pending(session: Session, secret: str | None, recipient_id: str) -> AgencySessionRow:
    row = session.get(AgencySessionRow, hash_secret(secret)) if secret else None
    if row is None or row.recipient_id != recipient_id or row.card_verified_at is not None:
        raise NotSignedIn()
    return row


def _lent(session: Session, officer_id: int) -> list[AgencyOfficerCardRow]:
    return list(
        session.scalars(
            select(AgencyOfficerCardRow).where(
                AgencyOfficerCardRow.officer_id == officer_id,
                AgencyOfficerCardRow.status == "lent",
            )
        )
    )


def card_options(node: ServiceContext, secret: str | None, *, recipient_id: str) -> tuple[str, str]:
    """After the password: a challenge for the officer's lent keys (challenge id, options)."""
    with node.uow() as uow:
        pending = _pending(uow.session, secret, recipient_id)
        cards = _lent(uow.session, pending.officer_id)
        if not cards:
            raise NoCardLent()
        challenge_id, challenge = new_challenge(
            node, uow.session, purpose=PURPOSE, operator_id=None
        )
        options = generate_authentication_options(
            rp_id=node.settings.webauthn_rp_id,
            challenge=challenge,
            allow_credentials=[
                PublicKeyCredentialDescriptor(id=base64url_to_bytes(card.credential_id))
                for card in cards
            ],
            user_verification=UserVerificationRequirement.REQUIRED,
        )
        uow.commit()
        return challenge_id, options_to_json(options)


def _credential_id(credential: str) -> str | None:
    try:
        data = json.loads(credential)
        return str(data["rawId"] if "rawId" in data else data["id"])
    except (ValueError, KeyError, TypeError):
        return None


def finish_card(
    node: ServiceContext,
    secret: str | None,
    *,
    recipient_id: str,
    challenge_id: str,
    credential: str,
    page_origin: str,
) -> None:
    """Verify the key's assertion (PIN verified) and open the half-open session."""
    with node.uow() as uow:
        pending = _pending(uow.session, secret, recipient_id)
        challenge = take_challenge(
            node, uow.session, challenge_id, purpose=PURPOSE, operator_id=None
        )
        raw_id = _credential_id(credential)
        card = next(
            (c for c in _lent(uow.session, pending.officer_id) if c.credential_id == raw_id), None
        )
        ok = False
        if card is not None:
            try:
                verified = verify_authentication_response(
                    credential=credential,
                    expected_challenge=challenge,
                    expected_rp_id=node.settings.webauthn_rp_id,
                    expected_origin=expected_origins(node, page_origin),
                    credential_public_key=card.public_key,
                    credential_current_sign_count=0,
                    require_user_verification=True,
                )
            except (InvalidAuthenticationResponse, InvalidJSONStructure, ValueError, KeyError):
                pass
            else:
                stored, new = card.sign_count, verified.new_sign_count
                if (stored or new) and new <= stored:
                    # Two keys share the credential: the card is revoked as lost.
                    card.status = "lost"
                    card.status_changed_at = node.now()
                    card.note = f"cloned: sign count {new} after {stored}"[:200]
                else:
                    card.sign_count = new
                    ok = True
        if not ok:
            uow.session.delete(pending)
            uow.commit()
            raise CardRefused()
        pending.card_verified_at = node.now()
        uow.commit()


# ---------------------------------------------------------------------------------------------
# Demo only: the browser's own passkey or security key becomes the officer's card
# ---------------------------------------------------------------------------------------------


def demo_enrolment_allowed(node: ServiceContext) -> bool:
    """Whether an officer without a card may enrol the browser's key (the demo's nodes only,
    ``demo_card_enrolment``; the same switch as the operators' demo enrolment)."""
    return bool(node.settings.demo_card_enrolment)


def _demo_only(node: ServiceContext) -> None:
    if not demo_enrolment_allowed(node):
        raise NoCardLent()


def demo_enrolment_options(
    node: ServiceContext, secret: str | None, *, recipient_id: str
) -> tuple[str, str]:
    """Demo only: options to create the officer's card in the browser's own authenticator."""
    _demo_only(node)
    with node.uow() as uow:
        pending = _pending(uow.session, secret, recipient_id)
        officer = uow.session.get(AgencyOfficerRow, pending.officer_id)
        if officer is None:
            raise NotSignedIn()
        challenge_id, challenge = new_challenge(
            node, uow.session, purpose=PURPOSE + "-enrol", operator_id=None
        )
        options = registration_options(
            node,
            user_name=officer.login,
            user_id=f"officer-{officer.id}".encode(),
            display_name=officer.display_name,
            challenge=challenge,
        )
        uow.commit()
        return challenge_id, options


def finish_demo_enrolment(
    node: ServiceContext,
    secret: str | None,
    *,
    recipient_id: str,
    challenge_id: str,
    credential: str,
    page_origin: str,
) -> None:
    """Demo only: the new key becomes a card lent to the officer, and the session opens."""
    _demo_only(node)
    with node.uow() as uow:
        pending = _pending(uow.session, secret, recipient_id)
        challenge = take_challenge(
            node, uow.session, challenge_id, purpose=PURPOSE + "-enrol", operator_id=None
        )
        verified = verified_registration(
            node,
            credential=credential,
            challenge=challenge,
            origins=expected_origins(node, page_origin),
        )
        if verified is None:
            uow.session.delete(pending)
            uow.commit()
            raise CardRefused()
        now = node.now()
        count = len(
            list(
                uow.session.scalars(
                    select(AgencyOfficerCardRow.id).where(
                        AgencyOfficerCardRow.officer_id == pending.officer_id
                    )
                )
            )
        )
        uow.session.add(
            AgencyOfficerCardRow(
                serial=f"DEMO-{pending.officer_id}-{count + 1}",
                officer_id=pending.officer_id,
                credential_id=bytes_to_base64url(verified.credential_id),
                public_key=verified.credential_public_key,
                sign_count=verified.sign_count,
                status="lent",
                lent_at=now,
                status_changed_at=now,
                note="demo enrolment",
            )
        )
        pending.card_verified_at = now
        uow.commit()
