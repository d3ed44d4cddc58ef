"""The new municipality's side of the card move: the move-in with the card, and the card's
continuation (継続利用).

The resident presents the card and enters its PIN; the card signs a challenge of this node and
its status comes from the network. The move-out information (転出証明書情報) is pulled from the
old municipality, checked (destination, deadline) and registered in ONE transaction with the
arriving card and the move-in notice (転入通知) to the old municipality in the outbox: a failure
anywhere before the commit leaves nothing written here, and the old municipality closes its
record only when that notice arrives (retried and idempotent there).
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import select

from jukinet.domain import card_move as move_rules
from jukinet.domain import resident_card as card_rules
from jukinet.domain.access_log import AccessEntry, Action, ActorKind, Channel
from jukinet.domain.card_move import ArrivalCardState
from jukinet.domain.errors import AuthenticationFailed, Conflict, DomainError, NotFound
from jukinet.domain.messages import MessageKind
from jukinet.domain.operators import Actor, Permission
from jukinet.domain.register import Insurance, Relationship, Sex
from jukinet.domain.resident_card import CardForm, CardState, InvalidReason, ResidentCard
from jukinet.network import resident_card_token as chip
from jukinet.services.card_move.inputs import CardContinuation, CardMoveIn
from jukinet.services.card_move.move_out import verify_card_signature
from jukinet.services.context import ServiceContext
from jukinet.services.register.arrivals import enter_arrivals
from jukinet.services.register.change import Change, ChangeResult
from jukinet.services.register.inputs import MoveIn, PersonInput
from jukinet.services.resident_card import terminal
from jukinet.services.resident_card.records import CardWork, status_body
from jukinet.storage import access_log
from jukinet.storage.card_move_tables import ArrivingCardRow
from jukinet.storage.card_tables import ResidentCardRow
from jukinet.storage.tables import ResidentRow
from jukinet.storage.unit_of_work import UnitOfWork

#: Pulls the move-out information of card ``serial`` from municipality ``old_code``.
MoveOutSource = Callable[[ServiceContext, str, str], dict[str, Any]]


def _refusal_logged(node: ServiceContext, actor: Actor, error: DomainError) -> None:
    """Record a refused card move-in (no resident named: none is known here yet)."""
    with node.session_factory() as session, session.begin():
        access_log.record(
            session,
            [
                AccessEntry(
                    recorded_at=node.now(),
                    node=str(node.node_id),
                    action=Action.REFUSED,
                    channel=Channel.COUNTER,
                    actor_kind=ActorKind.OPERATOR,
                    actor=actor.username,
                    reason=f"card_move:refused {error.code}",
                    terminal=actor.terminal_id,
                )
            ],
        )


def _authenticated(node: ServiceContext, *, serial: str, pin: str, place: str) -> str:
    """The card proves itself with its PIN; answers the municipality that holds it."""
    card_rules.validate_serial(serial)
    card_rules.validate_pin(pin)
    challenge = terminal.new_challenge(node)
    with chip.ResidentCardToken.open(serial, pin) as card:
        signature = card.authenticate(challenge.message)
    proved = terminal.authenticate_card(
        node, serial=serial, challenge_id=challenge.challenge_id, signature=signature, place=place
    )
    if proved.local:
        raise Conflict(
            "JUKI-MOVE-020",
            ja="このカードはこの市区町村で管理しています。カードによる転入の対象外です。",
            en="This card is held by this municipality: there is no card move to register.",
            field="serial",
        )
    return proved.municipality_code


def file_card_move_in(
    node: ServiceContext, *, actor: Actor, request: CardMoveIn, pull: MoveOutSource
) -> ChangeResult:
    """転入届（特例）: register the people of the card move here in one transaction.

    Refuses (and logs) a wrong PIN, a suspended or invalid card, a move-out filed for another
    destination or none at all, and a move-in past its deadline (the deadline named).
    """
    actor.require(Permission.FILE_EVENTS)
    place = actor.terminal_id or str(node.node_id)
    card_rules.validate_serial(request.serial)
    card_rules.validate_pin(request.pin)
    try:
        old_code = _authenticated(node, serial=request.serial, pin=request.pin, place=place)
        info = pull(node, old_code, request.serial)
        planned_on = _checked(node, info, request=request, old_code=old_code)
        with node.uow() as uow:
            change = Change(node, uow, actor)
            arrival = enter_arrivals(
                node,
                change,
                _move_in(info, request, old_code=old_code),
                notice_extra={"card_move": request.serial},
                card_move=True,
            )
            holder = arrival.rows[0]
            arriving = ArrivingCardRow(
                serial=request.serial,
                resident_id=holder.id,
                old_municipality_code=old_code,
                moved_in_on=request.moved_in_on,
                state=ArrivalCardState.AWAITING.value,
                card=dict(info["card"]) | {"planned_on": planned_on.isoformat()},
                auth_public_key=_key(info["card"].get("auth_public_key")),
                sign_public_key=_key(info["card"].get("sign_public_key")),
                arrived_at=change.now,
            )
            uow.session.add(arriving)
            uow.flush()
            if request.continue_card:
                _continue(node, uow, actor, arriving, resident_code=holder.resident_code)
            return change.finish(arrival.event_id, late=arrival.late, rows=arrival.rows)
    except DomainError as error:
        _refusal_logged(node, actor, error)
        raise


def _key(value: object) -> bytes | None:
    return base64.b64decode(str(value), validate=True) if value else None


def _checked(
    node: ServiceContext, info: dict[str, Any], *, request: CardMoveIn, old_code: str
) -> date:
    try:
        planned_on = date.fromisoformat(str(info["planned_on"]))
        facts = move_rules.MoveOutFacts(
            destination_municipality_code=str(info["destination_municipality_code"]),
            planned_on=planned_on,
        )
        if str(info["old_municipality_code"]) != old_code or info["serial"] != request.serial:
            raise ValueError("answer for another card")
    except (KeyError, ValueError, TypeError) as error:
        raise Conflict(
            "JUKI-MOVE-021",
            ja="転出元から受け取った転出証明書情報が不正です。",
            en="The move-out information from the old municipality is malformed.",
            field="serial",
        ) from error
    move_rules.check_destination(facts, here=node.municipality_code)
    move_rules.check_move_in_deadline(
        declared_move_on=planned_on, moved_in_on=request.moved_in_on, today=node.today()
    )
    return planned_on


def _move_in(info: dict[str, Any], request: CardMoveIn, *, old_code: str) -> MoveIn:
    persons = tuple(_person(p) for p in info["persons"])
    return MoveIn(
        persons=persons,
        address=request.address,
        previous_address=str(info["persons"][0]["previous_address"]),
        moved_on=request.moved_in_on,
        filed_on=request.filed_on,
        household_number=request.household_number or None,
        previous_municipality_code=old_code,
    )


def _person(item: dict[str, Any]) -> PersonInput:
    try:
        return PersonInput(
            family_name=str(item["family_name"]),
            given_name=str(item["given_name"]),
            family_name_kana=str(item["family_name_kana"]),
            given_name_kana=str(item["given_name_kana"]),
            birth_date=date.fromisoformat(str(item["birth_date"])),
            sex=Sex(str(item["sex"])),
            relationship=Relationship(str(item["relationship"])),
            resident_code=str(item["resident_code"]),
            domicile=item.get("domicile"),
            domicile_head=item.get("domicile_head"),
            insurance=Insurance(**{k: bool(v) for k, v in dict(item["insurance"]).items()}),
        )
    except (KeyError, ValueError, TypeError) as error:
        raise Conflict(
            "JUKI-MOVE-021",
            ja="転出元から受け取った転出証明書情報が不正です。",
            en="The move-out information from the old municipality is malformed.",
            field="serial",
        ) from error


def _card_of(arriving: ArrivingCardRow, resident_code: str) -> ResidentCard:
    card = arriving.card
    return ResidentCard(
        serial=arriving.serial,
        resident_code=resident_code,
        form=CardForm(str(card["form"])),
        state=CardState.VALID,
        issued_on=date.fromisoformat(card["issued_on"]) if card.get("issued_on") else None,
        expires_on=date.fromisoformat(card["expires_on"]) if card.get("expires_on") else None,
    )


def _continue(
    node: ServiceContext,
    uow: UnitOfWork,
    actor: Actor,
    arriving: ArrivingCardRow,
    *,
    resident_code: str,
) -> ResidentCardRow:
    """継続利用 inside ``uow``: the same serial and chip, now held by this municipality."""
    today = node.today()
    if arriving.state == ArrivalCardState.CONTINUED.value:
        raise Conflict(
            "JUKI-MOVE-022",
            ja="このカードは既に継続利用の手続きが済んでいます。",
            en="This card is already continued here.",
            field="serial",
        )
    try:
        move_rules.check_continuation(moved_in_on=arriving.moved_in_on, today=today)
    except Conflict:
        _lapse(node, uow, arriving, resident_code=resident_code)
        uow.commit()
        raise
    card = _card_of(arriving, resident_code)
    card_rules.require_usable(card, today=today)
    now = node.now()
    row = ResidentCardRow(
        serial=arriving.serial,
        resident_id=arriving.resident_id,
        resident_code=resident_code,
        form=card.form.value,
        state=CardState.VALID.value,
        invalid_reason=None,
        issued_on=card.issued_on,
        expires_on=card.expires_on,
        pin_failures=0,
        auth_public_key=arriving.auth_public_key,
        sign_public_key=arriving.sign_public_key,
        face=None,
        photo_ref=None,
        applied_at=now,
        updated_at=now,
        updated_by=actor.operator_id,
    )
    uow.session.add(row)
    uow.flush()
    arriving.state = ArrivalCardState.CONTINUED.value
    arriving.continued_at = now
    work = CardWork(
        node=node,
        session=uow.session,
        now=now,
        actor=actor.username,
        operator_id=actor.operator_id,
        place=actor.terminal_id,
    )
    work.event(row, "continued", {"from": arriving.old_municipality_code})
    work.logged(row, action=Action.WRITE, reason="card:continued")
    work.notify(row, card, continued_from=arriving.old_municipality_code)
    return row


def _lapse(
    node: ServiceContext, uow: UnitOfWork, arriving: ArrivingCardRow, *, resident_code: str
) -> None:
    """The card was not continued within 90 days: it lapses, and the network is told."""
    if arriving.state == ArrivalCardState.LAPSED.value:
        return
    arriving.state = ArrivalCardState.LAPSED.value
    if not node.connected:
        return
    now = node.now()
    lapsed = replace(
        _card_of(arriving, resident_code),
        state=CardState.INVALID,
        invalid_reason=InvalidReason.MOVED_WITHOUT_CONTINUATION,
    )
    uow.outbox.add(
        kind=MessageKind.CARD_STATUS_NOTICE.value,
        recipient=node.upstream,
        subject=None,
        body=status_body(
            arriving.serial, node.municipality_code, lapsed, now=now, today=node.today()
        )
        | {"continued_from": arriving.old_municipality_code},
        now=now,
    )


def continue_card(node: ServiceContext, *, actor: Actor, request: CardContinuation) -> str:
    """継続利用 after the move-in (within 90 days): the card proves itself with its PIN against
    the key pulled at the move-in; the serial continued is answered."""
    actor.require(Permission.FILE_EVENTS)
    card_rules.validate_serial(request.serial)
    card_rules.validate_pin(request.pin)
    nonce = secrets.token_bytes(32)
    with chip.ResidentCardToken.open(request.serial, request.pin) as card:
        signature = card.authenticate(nonce)
    with node.uow() as uow:
        arriving = uow.session.scalars(
            select(ArrivingCardRow).where(ArrivingCardRow.serial == request.serial)
        ).one_or_none()
        if arriving is None:
            raise NotFound(
                "JUKI-MOVE-023",
                ja="このカードによる転入の記録はありません。",
                en="No move-in with this card was registered here.",
                field="serial",
            )
        if not verify_card_signature(arriving.auth_public_key, nonce, signature):
            raise AuthenticationFailed(
                "JUKI-CARD-036",
                ja="カードを確認できませんでした（署名が一致しません）。",
                en="The card could not be verified: its signature does not match.",
            )
        resident = uow.session.get(ResidentRow, arriving.resident_id)
        assert resident is not None  # the foreign key guarantees it
        _continue(node, uow, actor, arriving, resident_code=resident.resident_code)
        uow.commit()
    return request.serial


def lapse_overdue_cards(node: ServiceContext) -> int:
    """Every card that moved in here and was not continued within 90 days lapses now (the
    network told); answers how many. Run by the node's housekeeping loop."""
    oldest_allowed = node.today() - move_rules.CONTINUATION_WINDOW
    with node.uow() as uow:
        overdue = uow.session.scalars(
            select(ArrivingCardRow).where(
                ArrivingCardRow.state == ArrivalCardState.AWAITING.value,
                ArrivingCardRow.moved_in_on < oldest_allowed,
            )
        ).all()
        for arriving in overdue:
            resident = uow.session.get(ResidentRow, arriving.resident_id)
            assert resident is not None  # the foreign key guarantees it
            _lapse(node, uow, arriving, resident_code=resident.resident_code)
        uow.commit()
    return len(overdue)
