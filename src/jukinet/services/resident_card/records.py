"""The card register inside one unit of work: loading, saving, the event trail, the access-log
entry and the status notice upward, written together so a card operation commits all or nothing.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jukinet.domain.access_log import AccessEntry, Action, ActorKind, Channel
from jukinet.domain.errors import Conflict, NotFound
from jukinet.domain.messages import MessageKind
from jukinet.domain.resident_card import (
    CardForm,
    CardState,
    InvalidReason,
    NetworkStatus,
    ResidentCard,
    issuer_of,
    serial_for,
    validate_serial,
)
from jukinet.network.node import NetworkNode
from jukinet.storage import access_log
from jukinet.storage.card_tables import ResidentCardEventRow, ResidentCardRow
from jukinet.storage.tables import OutboxRow

#: Items an access-log entry of card work names.
CARD_ITEMS = ("card",)


def to_card(row: ResidentCardRow) -> ResidentCard:
    """The domain's view of a card row."""
    return ResidentCard(
        serial=row.serial,
        resident_code=row.resident_code,
        form=CardForm(row.form),
        state=CardState(row.state),
        issued_on=row.issued_on,
        expires_on=row.expires_on,
        pin_failures=row.pin_failures,
        invalid_reason=InvalidReason(row.invalid_reason) if row.invalid_reason else None,
    )


def copy_onto(card: ResidentCard, row: ResidentCardRow, *, now: datetime, by: int) -> None:
    """Write the domain's card back onto its row (the version column guards lost updates)."""
    row.state = card.state.value
    row.issued_on = card.issued_on
    row.expires_on = card.expires_on
    row.pin_failures = card.pin_failures
    row.invalid_reason = card.invalid_reason.value if card.invalid_reason else None
    row.updated_at = now
    row.updated_by = by


def not_ours(field: str = "serial") -> Conflict:
    """A card another municipality issued, presented at this counter."""
    return Conflict(
        "JUKI-CARD-021",
        ja="他の市区町村が交付したカードです。この窓口では取り扱えません。",
        en="This card was issued by another municipality and cannot be handled at this counter.",
        field=field,
    )


def unknown_card(field: str = "serial") -> NotFound:
    """No card with this serial in this register (the message names nothing personal)."""
    return NotFound(
        "JUKI-CARD-022",
        ja="このカード番号のカードはありません。",
        en="There is no card with this serial.",
        field=field,
    )


def load(
    session: Session, municipality_code: str, serial: str, *, field: str = "serial"
) -> ResidentCardRow:
    """The card with ``serial`` this municipality holds; refuses another town's card and unknown
    ones (a card continued here after a card move is held here)."""
    validate_serial(serial, field=field)
    row = session.scalars(
        select(ResidentCardRow).where(ResidentCardRow.serial == serial)
    ).one_or_none()
    if row is None or moved_away(row):
        if issuer_of(serial) != municipality_code or row is not None:
            raise not_ours(field)
        raise unknown_card(field)
    return row


def moved_away(row: ResidentCardRow) -> bool:
    """Whether the card moved with its holder to another municipality, which holds it now."""
    return row.invalid_reason == InvalidReason.CONTINUED_ELSEWHERE.value


def held_here(session: Session, serial: str) -> ResidentCardRow | None:
    """This municipality's row of the card it holds (issued or continued here), if any."""
    row = session.scalars(
        select(ResidentCardRow).where(ResidentCardRow.serial == serial)
    ).one_or_none()
    return None if row is None or moved_away(row) else row


def live_card_of(session: Session, resident_id: int) -> ResidentCardRow | None:
    """The resident's card that still counts (applied, valid or suspended), if any."""
    return session.scalars(
        select(ResidentCardRow).where(
            ResidentCardRow.resident_id == resident_id,
            ResidentCardRow.state.in_(
                (CardState.APPLIED.value, CardState.VALID.value, CardState.SUSPENDED.value)
            ),
        )
    ).one_or_none()


def next_serial(session: Session, municipality_code: str) -> str:
    """The next serial this municipality issues (the unique constraint settles any race)."""
    prefix = f"{municipality_code}-"
    highest = session.scalar(
        select(func.max(ResidentCardRow.serial)).where(ResidentCardRow.serial.like(prefix + "%"))
    )
    number = int(highest[len(prefix) :]) + 1 if highest else 1
    return serial_for(municipality_code, number)


@dataclass
class CardWork:
    """One card operation's writes: event, access-log entry, status notice."""

    node: NetworkNode
    session: Session
    now: datetime
    #: Who acted: an operator's username, a service terminal, or a node.
    actor: str
    actor_kind: ActorKind = ActorKind.OPERATOR
    operator_id: int | None = None
    place: str | None = None
    channel: Channel = Channel.COUNTER

    @property
    def today(self) -> date:
        """Today in Japan."""
        return self.node.today()

    def event(self, row: ResidentCardRow, kind: str, details: dict[str, Any] | None = None) -> None:
        """Add one event to the card's trail."""
        self.session.add(
            ResidentCardEventRow(
                card_id=row.id,
                kind=kind,
                at=self.now,
                operator_id=self.operator_id,
                place=self.place,
                details=details or {},
            )
        )

    def logged(self, row: ResidentCardRow, *, action: Action, reason: str) -> None:
        """The access-log entry for the resident whose card this is (same transaction)."""
        access_log.record(
            self.session,
            [
                AccessEntry(
                    recorded_at=self.now,
                    node=str(self.node.node_id),
                    action=action,
                    channel=self.channel,
                    actor_kind=self.actor_kind,
                    actor=self.actor,
                    subject=row.resident_code,
                    reason=reason,
                    items=CARD_ITEMS,
                    terminal=self.place,
                )
            ],
        )

    def notify(
        self,
        row: ResidentCardRow,
        card: ResidentCard,
        *,
        continued_from: str | None = None,
        handed_to: str | None = None,
    ) -> None:
        """Queue the card's status for upstream (a disconnected municipality sends nothing).

        ``continued_from`` names the municipality that held the card before a card move;
        ``handed_to`` the one the old municipality hands it to.
        """
        if not self.node.connected:
            return
        self.session.add(
            OutboxRow(
                kind=MessageKind.CARD_STATUS_NOTICE.value,
                recipient=self.node.upstream,
                subject=None,
                body=status_body(
                    row.serial,
                    self.node.municipality_code,
                    card,
                    now=self.now,
                    today=self.today,
                )
                | _key_of(row)
                | ({"continued_from": continued_from} if continued_from else {})
                | ({"handed_to": handed_to} if handed_to else {}),
                created_at=self.now,
            )
        )


def _key_of(row: ResidentCardRow) -> dict[str, Any]:
    if row.auth_public_key is None:
        return {}
    return {"auth_public_key": base64.b64encode(row.auth_public_key).decode("ascii")}


def status_body(
    serial: str, municipality_code: str, card: ResidentCard, *, now: datetime, today: date
) -> dict[str, Any]:
    """A card status notice: serial, holder municipality, status, reason, expiry, time.

    No personal data: the resident code stays in the municipality.
    """
    status = card.network_status(today)
    reason = card.invalid_reason.value if card.invalid_reason else None
    if card.state is CardState.VALID and status is NetworkStatus.INVALID:
        reason = InvalidReason.EXPIRED.value
    return {
        "serial": serial,
        "municipality_code": municipality_code,
        "status": status.value,
        "reason": reason,
        "expires_on": card.expires_on.isoformat() if card.expires_on else None,
        "changed_at": now.isoformat(),
    }
