"""The old municipality's side of the card move: the move-out in advance, and the move-out
information (転出証明書情報) it answers the new municipality.

The filing marks the planned move (the record stays on the register); the record becomes a 除票
when the new municipality's move-in notice arrives (:mod:`jukinet.services.register.notices`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from sqlalchemy import select

from jukinet.data.catalog import get_municipality
from jukinet.domain import card_move as move_rules
from jukinet.domain import register as rules
from jukinet.domain import resident_card as card_rules
from jukinet.domain.access_log import AccessEntry, Action, ActorKind, Channel
from jukinet.domain.card_move import FilingChannel, PlannedMoveState
from jukinet.domain.codes import validate_resident_code
from jukinet.domain.errors import (
    AuthenticationFailed,
    Conflict,
    DomainError,
    FieldErrors,
    NotFound,
    ValidationError,
)
from jukinet.domain.operators import Actor, Permission
from jukinet.domain.register import ResidentRecord, validate_optional_text
from jukinet.services.card_move.inputs import CardMoveOut
from jukinet.services.context import ServiceContext
from jukinet.services.register.change import Change, ChangeResult
from jukinet.services.register.notices import system_actor
from jukinet.services.resident_card import records
from jukinet.storage import access_log
from jukinet.storage.card_move_tables import PlannedCardMoveRow
from jukinet.storage.card_tables import ResidentCardRow
from jukinet.storage.tables import ResidentRow
from jukinet.storage.unit_of_work import UnitOfWork

#: What an online filing's signature covers starts with this label.
ONLINE_LABEL: Final = b"jukinet-card-move-out\x00"
#: The access log's reason for the move-out information answered to the new municipality.
INFO_REASON: Final = "card_move:move_out_info"
INFO_ITEMS: Final = ("record", "domicile", "household", "insurance")


def file_card_move_out(node: ServiceContext, *, actor: Actor, request: CardMoveOut) -> ChangeResult:
    """転出届（特例）at the counter or by post: mark the planned move of the holder and members.

    Refuses a holder without a valid card, a member not in the holder's household (or with a
    card of their own), a move abroad, and dates the move-out rules refuse.
    """
    actor.require(Permission.FILE_EVENTS)
    if request.channel is FilingChannel.ONLINE:
        raise ValidationError(
            "JUKI-MOVE-010",
            ja="オンラインの届出はカードの署名付きで受け付けます。",
            en="An online filing comes signed with the card.",
            field="channel",
        )
    with node.uow() as uow:
        return _file(node, uow, actor, request)


def online_message(request: CardMoveOut) -> bytes:
    """The exact bytes the card's signature key signs for an online filing."""
    body = {
        "holder_code": request.holder_code,
        "member_codes": list(request.member_codes),
        "destination": request.destination,
        "destination_municipality_code": request.destination_municipality_code,
        "planned_on": request.planned_on.isoformat(),
        "filed_on": request.filed_on.isoformat(),
        "insurance_note": request.insurance_note,
    }
    return ONLINE_LABEL + json.dumps(body, ensure_ascii=False, sort_keys=True).encode()


def file_card_move_out_online(
    node: ServiceContext, *, request: CardMoveOut, serial: str, signature: bytes
) -> ChangeResult:
    """転出届（特例）online (the resident portal calls this): the request signed with the card's
    signature key, verified against the key this municipality registered for the card."""
    card_rules.validate_serial(serial)
    with node.uow() as uow:
        row = uow.session.scalars(
            select(ResidentCardRow).where(ResidentCardRow.serial == serial)
        ).one_or_none()
        ok = (
            row is not None
            and row.resident_code == request.holder_code
            and verify_card_signature(row.sign_public_key, online_message(request), signature)
        )
        if not ok:
            raise AuthenticationFailed(
                "JUKI-MOVE-011",
                ja="カードの署名を確認できませんでした。",
                en="The card's signature on the filing could not be verified.",
            )
        actor = system_actor(uow.session, node)
        return _file(node, uow, actor, request, channel=FilingChannel.ONLINE)


def verify_card_signature(public_key_der: bytes | None, message: bytes, signature: bytes) -> bool:
    """Whether ``signature`` (raw r‖s, P-256, SHA-256) over ``message`` is the key's."""
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


def _file(
    node: ServiceContext,
    uow: UnitOfWork,
    actor: Actor,
    request: CardMoveOut,
    *,
    channel: FilingChannel | None = None,
) -> ChangeResult:
    change = Change(node, uow, actor)
    errors: list[DomainError] = []
    destination = _destination(request, here=node.municipality_code, errors=errors)
    filing: rules.Filing | None = None
    try:
        filing = rules.check_move_out_dates(
            planned_on=request.planned_on, filed_on=request.filed_on, today=change.today
        )
    except ValidationError as error:
        errors.extend(error.each())
    note = None
    try:
        note = validate_optional_text(
            request.insurance_note, field="insurance_note", max_length=200
        )
    except ValidationError as error:
        errors.extend(error.each())
    if errors:
        raise FieldErrors(errors)
    assert filing is not None
    holder_row, holder = change.load(request.holder_code)
    rules.ensure_active(holder)
    card = records.live_card_of(uow.session, holder_row.id)
    if card is None:
        raise Conflict(
            "JUKI-MOVE-012",
            ja="この方には有効な住基カードがありません。通常の転出届をしてください。",
            en="This resident has no valid card: file an ordinary move-out.",
            field="holder_code",
        )
    card_rules.require_usable(records.to_card(card), today=change.today)
    _ensure_not_planned(uow, card.serial)
    members = _members(uow, holder_row, request.member_codes)
    event_id = change.event(
        "card_move_out_planned",
        filing,
        note=f"転出予定（特例・{(channel or request.channel).label_ja}）",
    )
    uow.session.add(
        PlannedCardMoveRow(
            serial=card.serial,
            holder_id=holder_row.id,
            resident_codes=[holder.resident_code] + [m.resident_code for m in members],
            destination=destination,
            destination_municipality_code=request.destination_municipality_code,
            planned_on=request.planned_on,
            filed_on=request.filed_on,
            channel=(channel or request.channel).value,
            insurance_note=note,
            state=PlannedMoveState.PLANNED.value,
            filed_at=change.now,
        )
    )
    rows = [holder_row, *members]
    for row in rows:
        change.written(row.resident_code)
    return change.finish(event_id, late=filing.late, rows=rows)


def _destination(request: CardMoveOut, *, here: str, errors: list[DomainError]) -> str:
    destination = request.destination.strip()
    try:
        move_rules.check_not_abroad(destination)
    except ValidationError as error:
        errors.extend(error.each())
    try:
        code = get_municipality(request.destination_municipality_code.strip()).code
        if code == here:
            errors.append(
                ValidationError(
                    "JUKI-MOVE-013",
                    ja="市区町村内の転居は転居届をしてください。",
                    en="A move within this municipality is filed as a move within.",
                    field="destination_municipality_code",
                )
            )
    except DomainError as error:
        errors.append(
            ValidationError(
                error.code,
                ja=error.message_ja,
                en=error.message_en,
                field="destination_municipality_code",
            )
        )
    return destination


def _ensure_not_planned(uow: UnitOfWork, serial: str) -> None:
    existing = uow.session.scalars(
        select(PlannedCardMoveRow.id).where(
            PlannedCardMoveRow.serial == serial,
            PlannedCardMoveRow.state == PlannedMoveState.PLANNED.value,
        )
    ).first()
    if existing is not None:
        raise Conflict(
            "JUKI-MOVE-014",
            ja="このカードの転出予定は既に届け出られています。",
            en="A move-out with this card is already filed.",
            field="holder_code",
        )


def _members(uow: UnitOfWork, holder: ResidentRow, codes: Sequence[str]) -> list[ResidentRow]:
    members: list[ResidentRow] = []
    errors: list[DomainError] = []
    for index, raw in enumerate(dict.fromkeys(codes)):
        try:
            code = validate_resident_code(raw, field=f"member_codes[{index}]")
        except ValidationError as error:
            errors.extend(error.each())
            continue
        row = uow.residents.find_row(code)
        if (
            row is None
            or row.id == holder.id
            or row.household_id != holder.household_id
            or row.status != "active"
        ):
            errors.append(move_rules.not_in_household(index))
            continue
        if records.live_card_of(uow.session, row.id) is not None:
            errors.append(move_rules.member_has_own_card(index))
            continue
        members.append(row)
    if errors:
        raise FieldErrors(errors)
    return members


# --- the move-out information answered to the new municipality ------------------------------


def move_out_information(
    node: ServiceContext, *, serial: str, asked_by: str, now: datetime | None = None
) -> dict[str, Any]:
    """転出証明書情報 of the planned move with card ``serial``, for municipality ``asked_by``.

    Answers only the destination the resident named; every person's read is logged here in the
    same transaction. Raises :class:`NotFound` when no planned move has this card.
    """
    card_rules.validate_serial(serial)
    with node.uow() as uow:
        planned = uow.session.scalars(
            select(PlannedCardMoveRow).where(
                PlannedCardMoveRow.serial == serial,
                PlannedCardMoveRow.state == PlannedMoveState.PLANNED.value,
            )
        ).first()
        if planned is None or f"municipality:{planned.destination_municipality_code}" != asked_by:
            raise NotFound(
                "JUKI-MOVE-015",
                ja="このカードによる転出の届出はありません（転出先が異なる場合を含む）。",
                en="No move-out with this card was filed for this destination.",
                field="serial",
            )
        card_row = uow.session.scalars(
            select(ResidentCardRow).where(ResidentCardRow.serial == serial)
        ).one()
        card = records.to_card(card_row)
        card_rules.require_usable(card, today=node.today())
        persons = [
            uow.residents.to_record(uow.residents.get_row(code)) for code in planned.resident_codes
        ]
        head = _head_name(uow, persons[0])
        moment = now or node.now()
        access_log.record(
            uow.session,
            [
                AccessEntry(
                    recorded_at=moment,
                    node=str(node.node_id),
                    action=Action.READ,
                    channel=Channel.NETWORK,
                    actor_kind=ActorKind.NODE,
                    actor=asked_by,
                    subject=person.resident_code,
                    reason=INFO_REASON,
                    items=INFO_ITEMS,
                )
                for person in persons
            ],
        )
        answer = {
            "serial": serial,
            "old_municipality_code": node.municipality_code,
            "destination": planned.destination,
            "destination_municipality_code": planned.destination_municipality_code,
            "planned_on": planned.planned_on.isoformat(),
            "filed_on": planned.filed_on.isoformat(),
            "channel": planned.channel,
            "insurance_note": planned.insurance_note,
            "card": {
                "form": card.form.value,
                "issued_on": card.issued_on.isoformat() if card.issued_on else None,
                "expires_on": card.expires_on.isoformat() if card.expires_on else None,
                "auth_public_key": _b64(card_row.auth_public_key),
                "sign_public_key": _b64(card_row.sign_public_key),
            },
            "persons": [_person(p, head) for p in persons],
        }
        uow.commit()
    return answer


def _b64(value: bytes | None) -> str | None:
    return base64.b64encode(value).decode("ascii") if value else None


def _head_name(uow: UnitOfWork, holder: ResidentRecord) -> str | None:
    for row in uow.residents.household_members(
        uow.residents.get_row(holder.resident_code).household_id
    ):
        record = uow.residents.to_record(row)
        if record.is_active and record.is_head:
            return f"{record.name.family}\u3000{record.name.given}"
    return None


def _person(record: ResidentRecord, head: str | None) -> dict[str, Any]:
    insurance = record.insurance
    return {
        "resident_code": record.resident_code,
        "family_name": record.name.family,
        "given_name": record.name.given,
        "family_name_kana": record.name.family_kana,
        "given_name_kana": record.name.given_kana,
        "birth_date": record.birth_date.isoformat(),
        "sex": record.sex.value,
        "household_head": head,
        "relationship": record.relationship.value,
        "domicile": record.domicile,
        "domicile_head": record.domicile_head,
        "previous_address": record.address,
        "insurance": {
            "national_health_insurance": insurance.national_health_insurance,
            "late_elderly_insurance": insurance.late_elderly_insurance,
            "long_term_care_insurance": insurance.long_term_care_insurance,
            "national_pension": insurance.national_pension,
            "child_allowance": insurance.child_allowance,
        },
    }
