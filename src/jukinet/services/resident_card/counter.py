"""Card work at the counter: application, issuance, PIN change and reset, loss report,
resumption and return (domain.md §5).

Each use case checks the actor's permission, validates its input, then writes the card row, its
event, the access-log entry and — when the status the network sees changes — the status notice,
in one transaction, with the API's answer when it came with an idempotency key. Issuance and PIN
reset also write the chip (the card writer on this node); the chip is written only after every
check has passed, so a refusal writes nothing anywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from jukinet.domain import resident_card as rules
from jukinet.domain.access_log import Action
from jukinet.domain.errors import Conflict, DomainError, FieldErrors, ValidationError
from jukinet.domain.operators import Actor, Permission
from jukinet.domain.resident_card import CardForm, CardState, InvalidReason, ResidentCard
from jukinet.network import resident_card_token as chip
from jukinet.services import idempotency
from jukinet.services.context import ServiceContext
from jukinet.services.resident_card import records
from jukinet.services.resident_card.inputs import (
    LOSS_QUESTIONS,
    CardApplication,
    CardIssue,
    LossReport,
    PinReset,
    Resumption,
)
from jukinet.services.resident_card.records import CardWork
from jukinet.services.resident_card.terminal import open_chip
from jukinet.storage.card_tables import ResidentCardEventRow, ResidentCardRow
from jukinet.storage.unit_of_work import UnitOfWork

MAX_CALLER_NAME = 40
MAX_NOTE = 200


@dataclass(frozen=True, slots=True)
class CardView:
    """A card as the counter sees it (no PIN, no keys)."""

    serial: str
    form: CardForm
    state: CardState
    network_status: rules.NetworkStatus
    pin_locked: bool
    pin_failures: int
    issued_on: date | None
    expires_on: date | None
    invalid_reason: InvalidReason | None
    has_photo: bool


@dataclass(frozen=True, slots=True)
class CardEventView:
    """One event of a card's life, for the counter's history."""

    kind: str
    at: str
    place: str | None
    details: dict[str, object]


def view_of(row: ResidentCardRow, *, today: date) -> CardView:
    """What the counter is shown of a card row."""
    card = records.to_card(row)
    return CardView(
        serial=card.serial,
        form=card.form,
        state=card.state,
        network_status=card.network_status(today),
        pin_locked=card.pin_locked,
        pin_failures=card.pin_failures,
        issued_on=card.issued_on,
        expires_on=card.expires_on,
        invalid_reason=card.invalid_reason,
        has_photo=row.photo_ref is not None,
    )


def _work(node: ServiceContext, uow: UnitOfWork, actor: Actor) -> CardWork:
    return CardWork(
        node=node,
        session=uow.session,
        now=node.now(),
        actor=actor.username,
        operator_id=actor.operator_id,
        place=actor.terminal_id,
    )


def _check_new_pin(pin: str, confirmation: str, *, field: str) -> None:
    errors: list[DomainError] = []
    try:
        rules.validate_pin(pin, field=field)
    except ValidationError as error:
        errors.append(error)
    if pin != confirmation:
        errors.append(
            ValidationError(
                "JUKI-CARD-003",
                ja="確認のため入力した暗証番号が一致しません。",
                en="The PIN and its confirmation differ.",
                field="pin_confirmation",
            )
        )
    if errors:
        raise FieldErrors(errors)


def apply_for_card(node: ServiceContext, *, actor: Actor, application: CardApplication) -> CardView:
    """交付申請: a new card of the chosen form for a registered resident without a live card."""
    actor.require(Permission.ISSUE_RESIDENT_CARDS)
    form = CardForm(application.form)
    photo_ref = (application.photo_ref or "").strip() or None
    if form is CardForm.PHOTO_ID and photo_ref is None:
        raise ValidationError(
            "JUKI-CARD-004",
            ja="写真付きカードには写真が必要です。",
            en="A photo ID card needs the resident's photo.",
            field="photo_ref",
        )
    with node.uow() as uow:
        row = uow.residents.get_row(application.resident_code)
        record = uow.residents.to_record(row)
        if not record.is_active:
            raise Conflict(
                "JUKI-CARD-023",
                ja="住民登録のない方（除票）にはカードを交付できません。",
                en="A card is issued only to a registered resident.",
                field="resident_code",
            )
        if records.live_card_of(uow.session, row.id) is not None:
            raise Conflict(
                "JUKI-CARD-020",
                ja="この方には有効なカード（または申請中のカード）が既にあります。"
                "紛失の場合は紛失届のうえ返納・再交付してください。",
                en="This resident already has a card (or one applied for): one card at a time.",
                field="resident_code",
            )
        work = _work(node, uow, actor)
        face = None
        if form is CardForm.PHOTO_ID:
            face = {
                "name": f"{record.name.family} {record.name.given}",
                "address": record.address,
                "birth_date": record.birth_date.isoformat(),
                "sex": record.sex.value,
            }
        card_row = ResidentCardRow(
            serial=records.next_serial(uow.session, node.municipality_code),
            resident_id=row.id,
            resident_code=row.resident_code,
            form=form.value,
            state=CardState.APPLIED.value,
            pin_failures=0,
            face=face,
            photo_ref=photo_ref if form is CardForm.PHOTO_ID else None,
            applied_at=work.now,
            updated_at=work.now,
            updated_by=actor.operator_id,
        )
        uow.session.add(card_row)
        uow.flush()
        work.event(card_row, "applied", {"form": form.value})
        work.logged(card_row, action=Action.WRITE, reason="card:applied")
        view = view_of(card_row, today=work.today)
        idempotency.remember(node, uow.session, view)
        uow.commit()
    return view


def issue_card(node: ServiceContext, *, actor: Actor, issue: CardIssue) -> CardView:
    """交付: write the chip (keys, resident code, the resident's PIN) and make the card valid."""
    actor.require(Permission.ISSUE_RESIDENT_CARDS)
    _check_new_pin(issue.pin, issue.pin_confirmation, field="pin")
    with node.uow() as uow:
        row = records.load(uow.session, node.municipality_code, issue.serial)
        work = _work(node, uow, actor)
        issued = rules.issue(records.to_card(row), today=work.today)
        resident = uow.residents.find_row(row.resident_code)
        if resident is None or resident.status != "active":
            raise Conflict(
                "JUKI-CARD-023",
                ja="住民登録のない方（除票）にはカードを交付できません。",
                en="A card is issued only to a registered resident.",
                field="serial",
            )
        # Every check has passed: only now is the chip written.
        auth_key, sign_key = chip.write_new_card(
            row.serial,
            pin=issue.pin,
            so_pin=chip.so_pin_for(node.settings.secret_key, row.serial),
            resident_code=row.resident_code,
        )
        row.auth_public_key = auth_key
        row.sign_public_key = sign_key
        records.copy_onto(issued, row, now=work.now, by=actor.operator_id)
        work.event(row, "issued", {"id_document": issue.id_document.value})
        work.logged(row, action=Action.WRITE, reason="card:issued")
        work.notify(row, issued)
        view = view_of(row, today=work.today)
        idempotency.remember(node, uow.session, view)
        uow.commit()
    return view


def reset_pin(node: ServiceContext, *, actor: Actor, reset: PinReset) -> CardView:
    """暗証番号の再設定 in person with ID: a new PIN on the chip, the card unlocked."""
    actor.require(Permission.ISSUE_RESIDENT_CARDS)
    _check_new_pin(reset.new_pin, reset.pin_confirmation, field="new_pin")
    with node.uow() as uow:
        row = records.load(uow.session, node.municipality_code, reset.serial)
        work = _work(node, uow, actor)
        was_locked = records.to_card(row).pin_locked
        unlocked = rules.reset_pin(records.to_card(row), today=work.today)
        chip.reset_pin(
            row.serial,
            so_pin=chip.so_pin_for(node.settings.secret_key, row.serial),
            new_pin=reset.new_pin,
        )
        records.copy_onto(unlocked, row, now=work.now, by=actor.operator_id)
        work.event(
            row, "pin_reset", {"id_document": reset.id_document.value, "was_locked": was_locked}
        )
        work.logged(row, action=Action.WRITE, reason="card:pin_reset")
        view = view_of(row, today=work.today)
        idempotency.remember(node, uow.session, view)
        uow.commit()
    return view


def change_pin(
    node: ServiceContext, *, actor: Actor, serial: str, old_pin: str, new_pin: str
) -> CardView:
    """暗証番号の変更: the resident, knowing the old PIN, sets a new one on the PIN pad."""
    actor.require(Permission.ISSUE_RESIDENT_CARDS)
    _check_new_pin(new_pin, new_pin, field="new_pin")
    with node.uow() as uow:
        row = records.load(uow.session, node.municipality_code, serial)
        work = _work(node, uow, actor)
        rules.require_usable(records.to_card(row), today=work.today)
    # The old PIN is checked by the chip, and a wrong one counted like any other.
    with open_chip(node, serial=serial, pin=old_pin, place=actor.terminal_id) as card:
        card.change_pin(old_pin, new_pin)
    with node.uow() as uow:
        row = records.load(uow.session, node.municipality_code, serial)
        work = _work(node, uow, actor)
        work.event(row, "pin_changed")
        work.logged(row, action=Action.WRITE, reason="card:pin_changed")
        view = view_of(row, today=work.today)
        idempotency.remember(node, uow.session, view)
        uow.commit()
    return view


def _check_loss_report(report: LossReport) -> None:
    errors: list[DomainError] = []
    name = report.caller_name.strip()
    if not name or len(name) > MAX_CALLER_NAME:
        errors.append(
            ValidationError(
                "JUKI-CARD-005",
                ja=f"届出人の氏名を{MAX_CALLER_NAME}文字以内で入力してください。",
                en=f"Enter the caller's name (at most {MAX_CALLER_NAME} characters).",
                field="caller_name",
            )
        )
    unknown = set(report.answered) - set(LOSS_QUESTIONS)
    if unknown or not report.answered:
        errors.append(
            ValidationError(
                "JUKI-CARD-006",
                ja="本人確認のために答えられた項目を1つ以上選んでください。",
                en="Choose at least one item the caller answered correctly.",
                field="answered",
            )
        )
    if len(report.note) > MAX_NOTE:
        errors.append(
            ValidationError(
                "JUKI-CARD-007",
                ja=f"備考は{MAX_NOTE}文字以内で入力してください。",
                en=f"The note is at most {MAX_NOTE} characters.",
                field="note",
            )
        )
    if errors:
        raise FieldErrors(errors)


def report_loss(node: ServiceContext, *, actor: Actor, report: LossReport) -> CardView:
    """紛失届 (by phone is enough): the card is suspended at once and the network told."""
    actor.require(Permission.REPORT_CARD_LOSS)
    _check_loss_report(report)
    return _transition(
        node,
        actor,
        report.serial,
        kind="suspended",
        details={
            "caller_name": report.caller_name.strip(),
            "caller_relation": report.caller_relation.value,
            "answered": sorted(set(report.answered)),
            "note": report.note.strip(),
        },
        change=lambda card, today: rules.suspend(card, today=today),
    )


def resume_card(node: ServiceContext, *, actor: Actor, resumption: Resumption) -> CardView:
    """一時停止の解除 in person with ID (the card was found)."""
    actor.require(Permission.ISSUE_RESIDENT_CARDS)
    return _transition(
        node,
        actor,
        resumption.serial,
        kind="resumed",
        details={"id_document": resumption.id_document.value},
        change=lambda card, today: rules.resume(card, today=today),
    )


def return_card(node: ServiceContext, *, actor: Actor, serial: str) -> CardView:
    """返納: the resident gives the card back (or an application is withdrawn); it ends."""
    actor.require(Permission.ISSUE_RESIDENT_CARDS)

    def end(card: ResidentCard, _today: date) -> ResidentCard:
        if card.state is CardState.INVALID:
            raise Conflict(
                "JUKI-CARD-024", ja="このカードは既に無効です。", en="This card is already invalid."
            )
        reason = (
            InvalidReason.WITHDRAWN if card.state is CardState.APPLIED else InvalidReason.RETURNED
        )
        return rules.invalidate(card, reason)

    return _transition(node, actor, serial, kind="returned", details={}, change=end)


def _transition(
    node: ServiceContext,
    actor: Actor,
    serial: str,
    *,
    kind: str,
    details: dict[str, object],
    change: Callable[[ResidentCard, date], ResidentCard],
) -> CardView:
    with node.uow() as uow:
        row = records.load(uow.session, node.municipality_code, serial)
        work = _work(node, uow, actor)
        before = records.to_card(row)
        after = change(before, work.today)
        records.copy_onto(after, row, now=work.now, by=actor.operator_id)
        work.event(row, kind, details)
        work.logged(row, action=Action.WRITE, reason=f"card:{kind}")
        if after.network_status(work.today) is not before.network_status(work.today):
            work.notify(row, after)
        view = view_of(row, today=work.today)
        idempotency.remember(node, uow.session, view)
        uow.commit()
    return view


def cards_of_resident(node: ServiceContext, *, actor: Actor, resident_code: str) -> list[CardView]:
    """Every card a resident has had here, newest first (a logged read)."""
    actor.require(Permission.READ_RESIDENTS)
    with node.uow() as uow:
        resident = uow.residents.get_row(resident_code)
        rows = uow.session.scalars(
            select(ResidentCardRow)
            .where(ResidentCardRow.resident_id == resident.id)
            .order_by(ResidentCardRow.id.desc())
        ).all()
        work = _work(node, uow, actor)
        views = [view_of(row, today=work.today) for row in rows]
        if rows:
            work.logged(rows[0], action=Action.READ, reason="card:list")
        uow.commit()
    return views


def card_history(node: ServiceContext, *, actor: Actor, serial: str) -> list[CardEventView]:
    """A card's events, oldest first (a logged read)."""
    actor.require(Permission.READ_RESIDENTS)
    with node.uow() as uow:
        row = records.load(uow.session, node.municipality_code, serial)
        events = uow.session.scalars(
            select(ResidentCardEventRow)
            .where(ResidentCardEventRow.card_id == row.id)
            .order_by(ResidentCardEventRow.id)
        ).all()
        work = _work(node, uow, actor)
        work.logged(row, action=Action.READ, reason="card:history")
        views = [
            CardEventView(kind=e.kind, at=e.at.isoformat(), place=e.place, details=dict(e.details))
            for e in events
        ]
        uow.commit()
    return views
