"""A wide-area copy at this counter (住民票の写しの広域交付): identify, ask home, print.

The resident shows their card (the PIN entered on the card at this counter's PIN pad; the card
signs a one-time challenge of this node, checked against the network's status and key) or a
photo ID whose details the clerk records. This node asks the home municipality through the
tiers (:func:`jukinet.services.relay.ask_municipality`) and prints its verified answer with the
ordinary renderer, under this municipality's serial, mayor and fee. Nothing is printed when the
home municipality cannot be asked (the clerk is told why) or refuses (the clerk is told its
reason); every outcome is in this node's access log with the affair 広域交付.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from jukinet.data.catalog import get_municipality
from jukinet.domain.access_log import AccessEntry, Action, ActorKind, Channel
from jukinet.domain.certificates import OptionalItems, canonical_bytes
from jukinet.domain.errors import Conflict, DomainError, FieldErrors, ValidationError
from jukinet.domain.municipality import validate_municipality_code
from jukinet.domain.operators import Actor, Permission
from jukinet.domain.resident_card import validate_pin, validate_serial
from jukinet.domain.wide_area import (
    AFFAIR,
    PURPOSE,
    Identification,
    home_is_here,
    read_copy,
    refusal,
    refusal_codes,
    wide_area_content,
)
from jukinet.network import resident_card_token as chip
from jukinet.network.relay import RelayRequest
from jukinet.services.audit import log_signer
from jukinet.services.certificates.issue import IssuedCertificate, issuer_of_node, next_serial
from jukinet.services.certificates.render import check_printable, render_pdf
from jukinet.services.context import ServiceContext
from jukinet.services.relay import ask_municipality, relay_entry, relay_failed
from jukinet.services.resident_card.inputs import IdDocument
from jukinet.services.resident_card.terminal import authenticate_card, new_challenge
from jukinet.storage import access_log
from jukinet.storage.certificate_tables import IssuedCertificateRow


@dataclass(frozen=True, slots=True)
class WideAreaRequest:
    """What the counter enters for a wide-area copy (one input model: page, API and CLI)."""

    identification: Identification
    #: The whole household (its current members), not only this person.
    household: bool = False
    #: Relationship and resident code only when asked; a domicile is never printed.
    items: OptionalItems = field(default_factory=OptionalItems)
    #: With the card: its serial, and the PIN the resident entered on the PIN pad.
    card_serial: str = ""
    pin: str = ""
    #: With a photo ID: what the clerk read from it, and the home municipality's code.
    home_municipality_code: str = ""
    id_document: IdDocument | None = None
    name: str = ""
    birth_date: date | None = None
    address: str = ""


def validate_request(request: WideAreaRequest) -> None:
    """Refuse (one aggregate, JUKI-WIDE-0xx per field) what the counter entered wrongly."""
    errors: list[DomainError] = []

    def check(condition: bool, code: str, ja: str, en: str, field_name: str) -> None:
        if not condition:
            errors.append(ValidationError(code, ja=ja, en=en, field=field_name))

    check(
        not request.items.domicile,
        "JUKI-WIDE-002",
        "広域交付の住民票の写しには本籍・筆頭者を記載できません。",
        "A wide-area copy never prints the domicile.",
        "domicile",
    )
    if request.identification is Identification.CARD:
        for validate, value in (
            (validate_serial, request.card_serial),
            (validate_pin, request.pin),
        ):
            try:
                validate(value)
            except DomainError as error:
                errors.append(error)
    else:
        try:
            validate_municipality_code(
                request.home_municipality_code, field="home_municipality_code"
            )
        except DomainError as error:
            errors.append(error)
        check(
            request.id_document is not None,
            "JUKI-WIDE-003",
            "提示された本人確認書類の種類を選んでください。",
            "Choose the photo ID shown.",
            "id_document",
        )
        check(
            0 < len(request.name.strip()) <= 100,
            "JUKI-WIDE-004",
            "本人確認書類の氏名を入力してください（100文字以内）。",
            "Enter the name on the photo ID (at most 100 characters).",
            "name",
        )
        check(
            request.birth_date is not None,
            "JUKI-WIDE-005",
            "本人確認書類の生年月日を入力してください。",
            "Enter the birth date on the photo ID.",
            "birth_date",
        )
        check(
            0 < len(request.address.strip()) <= 200,
            "JUKI-WIDE-006",
            "本人確認書類の住所を入力してください（200文字以内）。",
            "Enter the address on the photo ID (at most 200 characters).",
            "address",
        )
    if errors:
        raise FieldErrors(errors)


def _flags(request: WideAreaRequest) -> dict[str, Any]:
    return {
        "household": request.household,
        "relationship": request.items.relationship,
        "resident_code": request.items.resident_code,
    }


def _card_body(
    node: ServiceContext, actor: Actor, request: WideAreaRequest
) -> tuple[str, dict[str, Any]]:
    """The card proves itself here (PIN on the card, status and key from the network)."""
    place = actor.terminal_id or str(node.node_id)
    challenge = new_challenge(node)
    with chip.ResidentCardToken.open(request.card_serial, request.pin) as card:
        signature = card.authenticate(challenge.message)
    checked = authenticate_card(
        node,
        serial=request.card_serial,
        challenge_id=challenge.challenge_id,
        signature=signature,
        place=place,
    )
    body = {
        "identification": Identification.CARD.value,
        "serial": request.card_serial,
        "challenge": base64.b64encode(challenge.message).decode("ascii"),
        "signature": base64.b64encode(signature).decode("ascii"),
    }
    return checked.municipality_code, body | _flags(request)


def _photo_body(request: WideAreaRequest) -> tuple[str, dict[str, Any]]:
    assert request.birth_date is not None
    body = {
        "identification": Identification.PHOTO_ID.value,
        "name": request.name.strip(),
        "birth_date": request.birth_date.isoformat(),
        "address": request.address.strip(),
    }
    return request.home_municipality_code, body | _flags(request)


def _log_refusal(
    node: ServiceContext,
    actor: Actor,
    error: DomainError,
    *,
    home: str | None,
    request: WideAreaRequest,
    relayed: RelayRequest | None = None,
) -> None:
    detail: dict[str, Any] = {"code": error.code, "identification": request.identification.value}
    if home:
        detail["home"] = home
    if request.id_document is not None:
        detail["id_document"] = request.id_document.value
    if relayed is not None:
        entry = relay_entry(
            node,
            relayed,
            affair=AFFAIR,
            action=Action.REFUSED,
            items=(),
            actor=actor.username,
            actor_kind=ActorKind.OPERATOR,
            channel=Channel.COUNTER,
            reason=f"wide-area:refused {error.code}",
            terminal=actor.terminal_id,
            detail=detail,
        )
    else:
        entry = AccessEntry(
            recorded_at=node.now(),
            node=str(node.node_id),
            action=Action.REFUSED,
            channel=Channel.COUNTER,
            actor_kind=ActorKind.OPERATOR,
            actor=actor.username,
            affair_code=AFFAIR,
            reason=f"wide-area:refused {error.code}",
            terminal=actor.terminal_id,
            detail=detail,
        )
    with node.session_factory() as session, session.begin():
        access_log.record(session, [entry])


def issue_wide_area(
    node: ServiceContext, *, actor: Actor, request: WideAreaRequest, http: Any = None
) -> IssuedCertificate:
    """Issue a wide-area copy; refuses (logged, nothing printed) whatever cannot be answered.

    Raises the card's refusal (wrong PIN, suspended, invalid), :class:`RelayFailed`
    (JUKI-RELAY-0xx: the home municipality could not be asked), the home municipality's
    refusal (JUKI-WIDE-010…013) or the font's (JUKI-CERT-010).
    """
    actor.require(Permission.ISSUE_CERTIFICATES)
    if node.settings.role != "municipality":
        raise Conflict(
            "JUKI-WIDE-007",
            ja="広域交付は市区町村の窓口で行います。",
            en="Wide-area copies are issued at a municipality's counter.",
        )
    validate_request(request)
    if node.network is None or not node.connected:
        # Before the card is touched: an offline counter costs the resident no PIN try.
        error = relay_failed("not_connected", who=str(node.node_id))
        _log_refusal(node, actor, error, home=None, request=request)
        raise error
    home: str | None = None
    relayed: RelayRequest | None = None
    try:
        if request.identification is Identification.CARD:
            home, body = _card_body(node, actor, request)
        else:
            home, body = _photo_body(request)
        if home == node.municipality_code:
            raise home_is_here()
        relayed, answer = ask_municipality(
            node, destination=home, purpose=PURPOSE, body=body, http=http
        )
        return _print(node, actor, request, relayed, answer, home)
    except DomainError as error:
        _log_refusal(node, actor, error, home=home, request=request, relayed=relayed)
        raise


def _print(
    node: ServiceContext,
    actor: Actor,
    request: WideAreaRequest,
    relayed: RelayRequest,
    answer: dict[str, Any],
    home: str,
) -> IssuedCertificate:
    if set(answer) == {"refused"}:
        code = str(answer["refused"])
        raise refusal(code if code in refusal_codes() else "")
    try:
        address, head, persons = read_copy(
            answer.get("copy"),
            relationship=request.items.relationship,
            resident_code=request.items.resident_code,
        )
    except ValueError as error:
        raise relay_failed("untrusted", who=str(relayed.destination), why=str(error)) from error
    _signer, key = log_signer(node)
    with node.uow() as uow:
        serial = next_serial(uow, node.municipality_code, node.today().year)
        content = wide_area_content(
            address=address,
            household_head=head,
            persons=persons,
            issuer=issuer_of_node(node, serial),
            home_name=get_municipality(home).name,
        )
        check_printable(content, node.settings.certificate_font)
        signature = key.sign(canonical_bytes(content))
        pdf = render_pdf(content, signature, font=node.settings.certificate_font)
        uow.session.add(
            IssuedCertificateRow(
                serial=serial,
                kind=content["kind"],
                versions={},
                content=content,
                signature=signature,
                pdf_digest=hashlib.sha256(pdf).hexdigest(),
                fee_yen=node.settings.certificate_fee_yen,
                issued_at=node.now(),
                operator_id=actor.operator_id,
                terminal=actor.terminal_id,
            )
        )
        detail: dict[str, Any] = {"home": home, "certificate": serial, "persons": len(persons)}
        if request.id_document is not None:
            detail["id_document"] = request.id_document.value
        access_log.record(
            uow.session,
            [
                relay_entry(
                    node,
                    relayed,
                    affair=AFFAIR,
                    action=Action.READ,
                    items=("name", "birth_date", "sex", "address", "certificate"),
                    subject=person.get("resident_code"),
                    actor=actor.username,
                    actor_kind=ActorKind.OPERATOR,
                    channel=Channel.COUNTER,
                    reason=f"wide-area:issued {serial}",
                    terminal=actor.terminal_id,
                    detail=detail,
                )
                for person in persons
            ],
        )
        uow.flush()
        uow.commit()
    return IssuedCertificate(serial, pdf, content, node.settings.certificate_fee_yen)
