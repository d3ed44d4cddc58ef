"""One counter change inside its unit of work: what every register use case does alike.

The record, its previous version, the event, the access-log entry and the identity notice in
the outbox are written together by :class:`Change`, so a use case commits all or nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from jukinet.data.catalog import get_municipality
from jukinet.data.mj_table import identity_identified
from jukinet.domain import register as rules
from jukinet.domain.access_log import AccessEntry, Action, ActorKind, Channel
from jukinet.domain.addresses import check_in_municipality, validate_address
from jukinet.domain.codes import validate_resident_code
from jukinet.domain.errors import Conflict
from jukinet.domain.identity import ChangeReason, IdentityInfo, IdentityNotice
from jukinet.domain.messages import MessageKind
from jukinet.domain.network import municipality
from jukinet.domain.operators import Actor
from jukinet.domain.register import ResidentRecord
from jukinet.domain.resident_card import InvalidReason
from jukinet.services import idempotency
from jukinet.services.context import ServiceContext
from jukinet.services.resident_card.lifecycle import end_card
from jukinet.services.views import RecordView, view_of
from jukinet.storage import access_log
from jukinet.storage.tables import ResidentRow
from jukinet.storage.unit_of_work import UnitOfWork


def routed_statement(
    municipality_code: str, *, kind: MessageKind, payload: dict[str, object]
) -> dict[str, object]:
    """A message for another municipality as the tiers relay it (the network seals it)."""
    return {
        "destination": str(municipality(municipality_code)),
        "kind": kind.value,
        "payload": payload,
    }


@dataclass(frozen=True, slots=True)
class ChangeResult:
    """What a counter operation did."""

    event_id: int
    late: bool
    records: list[RecordView]


class Change:
    """What the register use cases share inside one unit of work."""

    def __init__(self, node: ServiceContext, uow: UnitOfWork, actor: Actor) -> None:
        self.node = node
        self.uow = uow
        self.actor = actor
        self.now: datetime = node.now()
        self.today: date = node.today()
        self.kind = "counter"
        #: Set when another node's message causes the change (e.g. a move-in notice): the log
        #: then names that node and the network as the channel.
        self.requested_by: str | None = None

    def finish(self, event_id: int, *, late: bool, rows: Sequence[ResidentRow]) -> ChangeResult:
        """Commit the change; its answer is kept in the same transaction for retries under an
        idempotency key."""
        result = ChangeResult(event_id=event_id, late=late, records=self.views(rows))
        idempotency.remember(self.node, self.uow.session, result)
        self.uow.commit()
        return result

    def local_address(self, address: str, *, field: str = "address") -> str:
        """``address`` checked as one this municipality may register: well formed and inside it."""
        municipality = get_municipality(self.node.municipality_code)
        return check_in_municipality(
            validate_address(address, field=field), municipality, field=field
        )

    def written(self, resident_code: str) -> None:
        """Record the write of one resident's record in the access log (same transaction)."""
        access_log.record(
            self.uow.session,
            [
                AccessEntry(
                    recorded_at=self.now,
                    node=str(self.node.node_id),
                    action=Action.WRITE,
                    channel=Channel.NETWORK if self.requested_by else Channel.COUNTER,
                    actor_kind=ActorKind.NODE if self.requested_by else ActorKind.OPERATOR,
                    actor=self.requested_by or self.actor.username,
                    subject=resident_code,
                    reason=self.kind,
                    items=("record",),
                    terminal=self.actor.terminal_id,
                )
            ],
        )

    def event(self, kind: str, filing: rules.Filing, note: str | None = None) -> int:
        self.kind = kind
        return self.uow.events.add(
            kind=kind,
            event_date=filing.event_date,
            filed_on=filing.filed_on,
            late=filing.late,
            operator_id=self.actor.operator_id,
            terminal_id=self.actor.terminal_id,
            now=self.now,
            note=note,
        ).id

    def load(self, resident_code: str) -> tuple[ResidentRow, ResidentRecord]:
        code = validate_resident_code(resident_code)
        row = self.uow.residents.get_row(code)
        return row, self.uow.residents.to_record(row)

    def save(
        self,
        row: ResidentRow,
        record: ResidentRecord,
        *,
        event_id: int,
        household_id: int | None = None,
    ) -> None:
        self.uow.residents.update(
            row,
            record,
            household_id=household_id or row.household_id,
            actor_id=self.actor.operator_id,
            now=self.now,
        )
        self.uow.flush()
        self.uow.residents.add_version(row, record, event_id=event_id, now=self.now)
        self.written(record.resident_code)

    def insert(self, record: ResidentRecord, *, household_id: int, event_id: int) -> ResidentRow:
        row = self.uow.residents.add(
            record, household_id=household_id, actor_id=self.actor.operator_id, now=self.now
        )
        self.uow.flush()
        self.uow.residents.add_version(row, record, event_id=event_id, now=self.now)
        self.written(record.resident_code)
        return row

    def route(self, *, statement: dict[str, object]) -> None:
        """Queue a message for another municipality (see :func:`routed_statement`); the tiers
        relay it without keeping it."""
        if not self.node.connected:
            return
        self.uow.outbox.add(
            kind=MessageKind.ROUTED.value,
            recipient=self.node.upstream,
            subject=None,
            body=statement,
            now=self.now,
        )

    def notify(
        self,
        record: ResidentRecord,
        *,
        reason: ChangeReason,
        changed_on: date,
        before: IdentityInfo | None,
        handover: dict[str, object] | None = None,
    ) -> None:
        """Queue the identity notice of this change for upstream.

        ``handover`` is the move-in notice a move-in routes to the old municipality: upstream
        hands the resident over from that municipality only on its (network-sealed) strength.
        """
        # A disconnected municipality sends nothing (its initial load follows on connecting);
        # a resident who opted out is never reported upstream.
        if not self.node.connected or record.upstream_opt_out:
            return
        # Names carry their glyphs' MJ identifiers; a record read from before they were kept
        # gets those of the shipped table, so every notice is complete.
        notice = IdentityNotice(
            municipality_code=self.node.municipality_code,
            current=identity_identified(record.identity()),
            reason=reason,
            changed_on=changed_on,
            before=identity_identified(before) if before is not None else None,
            handover=handover,
        )
        self.uow.outbox.add(
            kind=MessageKind.IDENTITY_NOTICE.value,
            recipient=self.node.upstream,
            subject=record.resident_code,
            body=notice.as_body(),
            now=self.now,
        )

    def end_card(
        self, row: ResidentRow, reason: InvalidReason, *, handed_to: str | None = None
    ) -> None:
        """End the resident's live card (住基カード), if any, in this same transaction."""
        end_card(
            self.node,
            self.uow,
            self.actor,
            resident_id=row.id,
            reason=reason,
            requested_by=self.requested_by,
            handed_to=handed_to,
        )

    def new_code(self) -> str:
        code = self.uow.codes.draw(self.node.municipality_code, now=self.now)
        if code is None:
            raise Conflict(
                "JUKI-CODE-010",
                ja="住民票コードの割当てが残っていません。全国センターに追加の割当てを依頼してください。",
                en="The pool of resident codes is empty; ask the national centre for more.",
                field="resident_code",
            )
        return code

    def check_households(self, household_ids: set[int]) -> None:
        for household_id in household_ids:
            members = self.uow.residents.household_members(household_id)
            rules.check_household([self.uow.residents.to_record(m) for m in members])

    def views(self, rows: Sequence[ResidentRow]) -> list[RecordView]:
        return [view_of(self.uow, row) for row in rows]
