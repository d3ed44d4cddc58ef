"""The home municipality's side of a wide-area copy (広域交付): who is asked for, checked.

Runs at the destination of a relayed ``wide_area_copy`` request (see
:mod:`jukinet.services.relay`). The resident is found by their card — the card must be one this
municipality holds, usable, and its signature over the issuing counter's challenge (naming the
issuing node) must verify against the key in this register — or by the photo ID's name, birth
date and address. Only a living resident still registered here is answered; the household's
other current members on request. The answer carries what the copy prints and nothing more:
never the domicile; the relationship and the resident code only when asked. Every answer and
every refusal is logged here in the same transaction as the read, with the affair 広域交付.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jukinet.domain import resident_card as card_rules
from jukinet.domain.access_log import Action
from jukinet.domain.certificates import CertificateKind, Issuer, OptionalItems, printed_content
from jukinet.domain.errors import DomainError
from jukinet.domain.register import ResidentRecord
from jukinet.domain.wide_area import AFFAIR, PERSON_KEYS, PhotoId, photo_id_matches
from jukinet.network.relay import RelayRequest
from jukinet.services.context import ServiceContext
from jukinet.services.relay import relay_entry
from jukinet.services.resident_card import records as card_records
from jukinet.services.resident_card.terminal import challenge_prefix, verify_card_signature
from jukinet.storage import access_log
from jukinet.storage.card_tables import ResidentCardRow
from jukinet.storage.tables import ResidentRow
from jukinet.storage.unit_of_work import UnitOfWork

_ITEMS = ("name", "birth_date", "sex", "address", "wide_area_copy")


@dataclass(frozen=True, slots=True)
class _Asked:
    identification: str
    household: bool
    relationship: bool
    resident_code: bool
    serial: str | None = None
    challenge: bytes | None = None
    signature: bytes | None = None
    photo_id: PhotoId | None = None


class _Refused(Exception):
    def __init__(self, code: str, subject: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.subject = subject


def _flag(body: dict[str, Any], key: str) -> bool:
    value = body.get(key, False)
    if not isinstance(value, bool):
        raise _Refused("JUKI-WIDE-013")
    return value


def _parse(body: dict[str, Any]) -> _Asked:
    try:
        kind = body["identification"]
        household = _flag(body, "household")
        relationship = _flag(body, "relationship")
        resident_code = _flag(body, "resident_code")
        if kind == "card":
            return _Asked(
                "card",
                household,
                relationship,
                resident_code,
                serial=card_rules.validate_serial(str(body["serial"])),
                challenge=base64.b64decode(str(body["challenge"]), validate=True),
                signature=base64.b64decode(str(body["signature"]), validate=True),
            )
        if kind == "photo_id":
            photo = PhotoId(
                name=str(body["name"])[:100],
                birth_date=date.fromisoformat(str(body["birth_date"])),
                address=str(body["address"])[:200],
            )
            return _Asked("photo_id", household, relationship, resident_code, photo_id=photo)
    except (KeyError, ValueError, TypeError, DomainError) as error:
        raise _Refused("JUKI-WIDE-013") from error
    raise _Refused("JUKI-WIDE-013")


def _by_card(session: Session, node: ServiceContext, asked: _Asked, origin: str) -> ResidentRow:
    assert asked.serial is not None
    assert asked.challenge is not None
    assert asked.signature is not None
    row = session.scalars(
        select(ResidentCardRow).where(ResidentCardRow.serial == asked.serial)
    ).one_or_none()
    if row is None:
        raise _Refused("JUKI-WIDE-012")
    try:
        card_rules.require_usable(card_records.to_card(row), today=node.today())
    except DomainError as error:
        raise _Refused("JUKI-WIDE-012", row.resident_code) from error
    # The card signed a challenge of the issuing node itself: a relay or another town
    # cannot reuse a signature made elsewhere.
    if not asked.challenge.startswith(challenge_prefix(origin)) or not verify_card_signature(
        row.auth_public_key, asked.challenge, asked.signature
    ):
        raise _Refused("JUKI-WIDE-012", row.resident_code)
    resident = session.get(ResidentRow, row.resident_id)
    if resident is None:
        raise _Refused("JUKI-WIDE-010", row.resident_code)
    return resident


def _by_photo_id(uow: UnitOfWork, photo: PhotoId) -> ResidentRow:
    candidates = uow.session.scalars(
        select(ResidentRow).where(ResidentRow.birth_date == photo.birth_date)
    ).all()
    matching = [
        row
        for row in candidates
        if photo_id_matches(
            photo,
            name=f"{row.family_name}{row.given_name}",
            birth_date=row.birth_date,
            address=row.address,
        )
    ]
    active = [row for row in matching if row.status == "active"]
    if len(active) == 1:
        return active[0]
    if matching:
        raise _Refused("JUKI-WIDE-010", matching[0].resident_code)
    raise _Refused("JUKI-WIDE-011")


def _copy(records: list[ResidentRecord], asked: _Asked, node: ServiceContext) -> dict[str, Any]:
    items = OptionalItems(relationship=asked.relationship, resident_code=asked.resident_code)
    # The issuer's part is the issuing node's: only the records' part is answered.
    placeholder = Issuer(node.municipality_code, "", "", "", node.today(), 0)
    content = printed_content(CertificateKind.RESIDENT_COPY, records, items, placeholder)
    persons = [{k: v for k, v in p.items() if k in PERSON_KEYS} for p in content["persons"]]
    return {
        "address": content["address"],
        "household_head": content["household_head"],
        "persons": persons,
    }


def answer_wide_area(node: ServiceContext, request: RelayRequest) -> dict[str, Any]:
    """The answer to one wide-area copy request: ``{"copy": …}`` or ``{"refused": code}``."""
    with node.uow() as uow:
        subject: str | None = None
        try:
            asked = _parse(request.body)
            if asked.identification == "card":
                row = _by_card(uow.session, node, asked, str(request.origin))
            else:
                assert asked.photo_id is not None
                row = _by_photo_id(uow, asked.photo_id)
            subject = row.resident_code
            if row.status != "active":
                raise _Refused("JUKI-WIDE-010", subject)
            rows = [row]
            if asked.household:
                members = uow.residents.household_members(row.household_id)
                rows = [m for m in members if m.status == "active"]
            records = sorted(
                (uow.residents.to_record(r) for r in rows), key=lambda r: not r.is_head
            )
            copy = _copy(records, asked, node)
        except _Refused as refused:
            uow.rollback()
            entry = relay_entry(
                node,
                request,
                affair=AFFAIR,
                action=Action.REFUSED,
                items=(),
                subject=refused.subject or subject,
                reason=f"wide-area:refused {refused.code}",
            )
            with node.session_factory() as session, session.begin():
                access_log.record(session, [entry])
            return {"refused": refused.code}
        access_log.record(
            uow.session,
            [
                relay_entry(
                    node,
                    request,
                    affair=AFFAIR,
                    action=Action.READ,
                    items=_ITEMS,
                    subject=record.resident_code,
                    reason=f"wide-area:answered for {request.origin}",
                )
                for record in records
            ],
        )
        uow.commit()
    return {"copy": copy}
