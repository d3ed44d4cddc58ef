"""Sign-in: the password, then the operator's card, then a server-side session.

Pages use a FIDO2 security key through WebAuthn (user verification = the card's PIN); the API
and the command line use a PKCS#11 token whose key signs a one-time challenge. A wrong password
and a refused card count alike towards the lockout (``signin_lockout_after``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session
from webauthn import (
    generate_authentication_options,
    options_to_json,
    verify_authentication_response,
)
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import (
    InvalidAuthenticationResponse,
    InvalidJSONStructure,
)
from webauthn.helpers.structs import (
    PublicKeyCredentialDescriptor,
    UserVerificationRequirement,
)

from jukinet.domain.errors import AuthenticationFailed, PermissionDenied
from jukinet.domain.operator_events import OperatorEvent
from jukinet.domain.operators import Actor, Role
from jukinet.services.context import ServiceContext
from jukinet.services.operator_security.challenges import (
    card_signature_ok,
    new_challenge,
    signin_message,
    take_challenge,
)
from jukinet.services.operator_security.events import log_event
from jukinet.services.operator_security.registration import (
    registration_options,
    verified_registration,
)
from jukinet.services.operator_security.sessions import open_session
from jukinet.services.operators import count_failure, verify_password
from jukinet.storage.tables import OperatorCardRow, OperatorRow, TerminalRow

#: Pages sign in with WebAuthn; the API and the CLI with a PKCS#11 card.
WEBAUTHN = "webauthn"
PKCS11 = "pkcs11"


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A new session: the actor and the secret for the cookie or the bearer token."""

    actor: Actor
    secret: str


def _card_refused() -> AuthenticationFailed:
    return AuthenticationFailed(
        "JUKI-AUTH-031",
        ja="操作者カードを確認できませんでした。貸与されたカードを使い、PINを正しく入力してください。",
        en="The operator card could not be verified: use the card lent to you and its PIN.",
    )


def check_password(
    node: ServiceContext, *, username: str, password: str, terminal: TerminalRow
) -> int:
    """The first step: the operator's id when the password is right and the account usable."""
    return verify_password(node, username=username, password=password, terminal_id=terminal.name)


def lent_cards(session: Session, operator_id: int, kind: str) -> list[OperatorCardRow]:
    """The cards of ``kind`` currently lent to the operator."""
    return list(
        session.scalars(
            select(OperatorCardRow).where(
                OperatorCardRow.operator_id == operator_id,
                OperatorCardRow.status == "lent",
                OperatorCardRow.kind == kind,
            )
        )
    )


def expected_origins(node: ServiceContext, page_origin: str) -> list[str]:
    """Configured origins, or the page's own when its host is the relying-party id."""
    configured = node.settings.webauthn_origins
    if configured:
        return list(configured)
    host = page_origin.split("://", 1)[-1].split(":", 1)[0]
    return [page_origin] if host == node.settings.webauthn_rp_id else []


# ---------------------------------------------------------------------------------------------
# WebAuthn (pages)
# ---------------------------------------------------------------------------------------------


def webauthn_signin_options(node: ServiceContext, *, operator_id: int) -> tuple[str, str]:
    """A challenge for the operator's lent security keys: (challenge id, options JSON)."""
    with node.uow() as uow:
        cards = lent_cards(uow.session, operator_id, WEBAUTHN)
        challenge_id, challenge = new_challenge(
            node, uow.session, purpose="webauthn-signin", operator_id=operator_id
        )
        options = generate_authentication_options(
            rp_id=node.settings.webauthn_rp_id,
            challenge=challenge,
            allow_credentials=[
                PublicKeyCredentialDescriptor(id=_b64(card.credential_id)) for card in cards
            ],
            user_verification=UserVerificationRequirement.REQUIRED,
        )
        uow.commit()
        return challenge_id, options_to_json(options)


def _b64(value: str | None) -> bytes:
    from webauthn import base64url_to_bytes

    return base64url_to_bytes(value or "")


def finish_webauthn_signin(
    node: ServiceContext,
    *,
    operator_id: int,
    challenge_id: str,
    credential: str,
    page_origin: str,
    terminal: TerminalRow,
) -> SignedIn:
    """Verify the security key's assertion (user verified) and open a page session."""
    with node.uow() as uow:
        operator = _usable_operator(uow.session, operator_id)
        challenge = take_challenge(
            node, uow.session, challenge_id, purpose="webauthn-signin", operator_id=operator_id
        )
        card = _card_by_credential(uow.session, credential)
        failure: str | None = None
        if card is None or card.operator_id != operator.id or card.status != "lent":
            failure = "card not lent to this operator"
        else:
            try:
                verified = verify_authentication_response(
                    credential=credential,
                    expected_challenge=challenge,
                    expected_rp_id=node.settings.webauthn_rp_id,
                    expected_origin=expected_origins(node, page_origin),
                    credential_public_key=card.public_key,
                    # Our own comparison below tells a cloned card from a bad signature.
                    credential_current_sign_count=0,
                    require_user_verification=True,
                )
            except (InvalidAuthenticationResponse, InvalidJSONStructure, ValueError, KeyError):
                failure = "assertion refused"
            else:
                stored = card.sign_count
                new = verified.new_sign_count
                if (stored or new) and new <= stored:
                    _cloned(node, uow.session, card, operator, terminal, stored, new)
                    uow.commit()
                    raise _card_refused()
                card.sign_count = new
        if failure is not None or card is None:
            _card_failure(node, uow.session, operator, terminal, failure or "unknown card")
            uow.commit()
            raise _card_refused()
        return _open(node, uow.session, operator, card, terminal, "page")


def _card_by_credential(session: Session, credential: str) -> OperatorCardRow | None:
    try:
        data = json.loads(credential)
        raw_id = str(data["rawId"] if "rawId" in data else data["id"])
    except (ValueError, KeyError, TypeError):
        return None
    return session.scalars(
        select(OperatorCardRow).where(OperatorCardRow.credential_id == raw_id)
    ).first()


def _cloned(
    node: ServiceContext,
    session: Session,
    card: OperatorCardRow,
    operator: OperatorRow,
    terminal: TerminalRow,
    stored: int,
    new: int,
) -> None:
    # A counter going backwards means two authenticators share the key: the card is lost.
    card.status = "lost"
    card.status_changed_at = node.now()
    card.note = f"cloned: sign count {new} after {stored}"[:200]
    log_event(
        node,
        session,
        OperatorEvent.CARD_CLONED,
        actor=operator.username,
        text=f"card {card.serial}: sign count {new} after {stored}; card revoked",
        terminal=terminal.name,
        refused=True,
    )
    count_failure(node, session, operator, terminal_id=terminal.name, password_ok=True)


def demo_enrolment_options(node: ServiceContext, *, operator_id: int) -> tuple[str, str]:
    """Demo only: options to enrol the browser's own passkey or key as the operator's card."""
    _demo_only(node)
    with node.uow() as uow:
        operator = _usable_operator(uow.session, operator_id)
        challenge_id, challenge = new_challenge(
            node, uow.session, purpose="webauthn-enrol", operator_id=operator_id
        )
        options = registration_options(
            node,
            user_name=operator.username,
            user_id=f"op-{operator.id}".encode(),
            display_name=operator.display_name,
            challenge=challenge,
        )
        uow.commit()
        return challenge_id, options


def finish_demo_enrolment(
    node: ServiceContext,
    *,
    operator_id: int,
    challenge_id: str,
    credential: str,
    page_origin: str,
    terminal: TerminalRow,
) -> SignedIn:
    """Demo only: register the new credential as a card lent to the operator, and sign in."""
    _demo_only(node)
    with node.uow() as uow:
        operator = _usable_operator(uow.session, operator_id)
        challenge = take_challenge(
            node, uow.session, challenge_id, purpose="webauthn-enrol", operator_id=operator_id
        )
        verified = verified_registration(
            node,
            credential=credential,
            challenge=challenge,
            origins=expected_origins(node, page_origin),
        )
        if verified is None:
            _card_failure(node, uow.session, operator, terminal, "demo enrolment refused")
            uow.commit()
            raise _card_refused()
        now = node.now()
        card = OperatorCardRow(
            serial=f"DEMO-{operator.id:04d}-{bytes_to_base64url(verified.credential_id)[:8]}",
            kind=WEBAUTHN,
            status="lent",
            operator_id=operator.id,
            credential_id=bytes_to_base64url(verified.credential_id),
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            registered_at=now,
            status_changed_at=now,
            note="demo: enrolled by the operator's own first sign-in",
            demo_enrolled=True,
        )
        uow.session.add(card)
        uow.session.flush()
        log_event(
            node,
            uow.session,
            OperatorEvent.CARD_REGISTERED,
            actor=operator.username,
            text=f"demo self-enrolment {card.serial}",
            terminal=terminal.name,
        )
        return _open(node, uow.session, operator, card, terminal, "page")


def _demo_only(node: ServiceContext) -> None:
    if not node.settings.demo_card_enrolment:
        raise PermissionDenied(
            "JUKI-AUTH-032",
            ja="カードの自己登録はデモでのみ使えます。カード管理者にカードの貸与を依頼してください。",
            en="Enrolling your own card is for the demo only; ask the card administrator for a "
            "card.",
        )


# ---------------------------------------------------------------------------------------------
# PKCS#11 cards (API and command line)
# ---------------------------------------------------------------------------------------------


def token_challenge(node: ServiceContext) -> tuple[str, bytes]:
    """A one-time challenge for a PKCS#11 card (not bound to a name: asking tells nothing)."""
    with node.uow() as uow:
        challenge_id, challenge = new_challenge(
            node, uow.session, purpose="pkcs11-signin", operator_id=None
        )
        uow.commit()
        return challenge_id, challenge


def finish_card_signin(
    node: ServiceContext,
    *,
    username: str,
    password: str,
    card_serial: str,
    challenge_id: str,
    signature: bytes,
    terminal: TerminalRow,
    channel: str,
) -> SignedIn:
    """Password and a PKCS#11 card's signature over the challenge: an API or CLI session."""
    operator_id = check_password(node, username=username, password=password, terminal=terminal)
    with node.uow() as uow:
        operator = _usable_operator(uow.session, operator_id)
        challenge = take_challenge(
            node, uow.session, challenge_id, purpose="pkcs11-signin", operator_id=None
        )
        card = uow.session.scalars(
            select(OperatorCardRow).where(OperatorCardRow.serial == card_serial)
        ).first()
        if (
            card is None
            or card.kind != PKCS11
            or card.status != "lent"
            or card.operator_id != operator.id
            or not card_signature_ok(
                card.public_key, signin_message(str(node.node_id), challenge), signature
            )
        ):
            _card_failure(node, uow.session, operator, terminal, f"card {card_serial[:32]}")
            uow.commit()
            raise _card_refused()
        return _open(node, uow.session, operator, card, terminal, channel)


def refuse_card_pin(
    node: ServiceContext,
    *,
    username: str,
    password: str,
    card_serial: str,
    terminal: TerminalRow,
) -> None:
    """Record a card that would not open with the PIN typed (the token said so, not us).

    SoftHSM never locks a PIN, and a smart card's own counter is not ours to read: a wrong PIN
    counts like a refused card towards the account's lockout. The password is checked first, so
    a stranger holding the card cannot lock its holder out with guessed PINs.
    """
    operator_id = check_password(node, username=username, password=password, terminal=terminal)
    with node.uow() as uow:
        operator = _usable_operator(uow.session, operator_id)
        _card_failure(node, uow.session, operator, terminal, f"card {card_serial[:32]}: wrong PIN")
        uow.commit()


# ---------------------------------------------------------------------------------------------
# Shared
# ---------------------------------------------------------------------------------------------


def _usable_operator(session: Session, operator_id: int) -> OperatorRow:
    operator = session.get(OperatorRow, operator_id)
    if operator is None or not operator.active or operator.locked_at is not None:
        raise AuthenticationFailed(
            "JUKI-AUTH-001",
            ja="アカウントが無効またはロックされています。セキュリティ責任者に連絡してください。",
            en="The account is disabled or locked; contact a security officer.",
        )
    return operator


def _card_failure(
    node: ServiceContext,
    session: Session,
    operator: OperatorRow,
    terminal: TerminalRow,
    what: str,
) -> None:
    log_event(
        node,
        session,
        OperatorEvent.CARD_REFUSED,
        actor=operator.username,
        text=what,
        terminal=terminal.name,
        refused=True,
    )
    count_failure(node, session, operator, terminal_id=terminal.name, password_ok=False)


def _open(
    node: ServiceContext,
    session: Session,
    operator: OperatorRow,
    card: OperatorCardRow,
    terminal: TerminalRow,
    channel: str,
) -> SignedIn:
    operator.failed_signins = 0
    secret = open_session(
        node, session, operator=operator, card=card, terminal=terminal, channel=channel
    )
    session.commit()
    actor = Actor(
        operator_id=operator.id,
        username=operator.username,
        role=Role(operator.role),
        terminal_id=terminal.name,
        display_name=operator.display_name,
        card_serial=card.serial,
    )
    return SignedIn(actor=actor, secret=secret)
