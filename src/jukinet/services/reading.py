"""The one gateway for reading residents' personal data at the counter: one function per query.

Each function checks the actor's permission before any personal data is read, and records one
access-log entry per resident shown, committed in the read's own transaction (architecture.md
property 1): no read without its entry. Agency queries have their gateway in
``services.provision``; both append through ``storage.access_log``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from jukinet.domain.access_log import AccessEntry, Action, ActorKind, Channel
from jukinet.domain.codes import validate_resident_code
from jukinet.domain.errors import ValidationError
from jukinet.domain.names import is_kana_query, kana_search_key, name_search_key
from jukinet.domain.operators import Actor, Permission
from jukinet.services.context import ServiceContext
from jukinet.services.views import HistoryEntry, RecordView, history_entry, view_of
from jukinet.storage import access_log
from jukinet.storage.unit_of_work import UnitOfWork

MAX_SEARCH_RESULTS = 200
#: The reason recorded for a counter lookup when the operator gives none.
COUNTER_REASON = "窓口業務"
#: What a reveal's access-log reason starts with; the operator's own reason follows.
REVEAL_REASON_PREFIX = "code revealed: "
#: The longest reason an operator may give for revealing a code.
MAX_REVEAL_REASON = 150


def _record_reads(
    node: ServiceContext,
    uow: UnitOfWork,
    actor: Actor,
    subjects: list[str],
    *,
    action: Action,
    items: tuple[str, ...],
    reason: str | None,
) -> None:
    now = node.now()
    access_log.record(
        uow.session,
        [
            AccessEntry(
                recorded_at=now,
                node=str(node.node_id),
                action=action,
                channel=Channel.COUNTER,
                actor_kind=ActorKind.OPERATOR,
                actor=actor.username,
                subject=subject,
                reason=reason or COUNTER_REASON,
                items=items,
                terminal=actor.terminal_id,
            )
            for subject in subjects
        ],
    )


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """Search terms: a name (kanji with variants, or kana), a birth date, or both."""

    name: str | None = None
    birth_date: date | None = None
    include_removed: bool = False
    limit: int = 50


@dataclass(frozen=True, slots=True)
class HouseholdView:
    """A household and its members, active and removed."""

    household_number: str
    members: list[RecordView]


def read_resident(
    node: ServiceContext, *, actor: Actor, resident_code: str, reason: str | None = None
) -> RecordView:
    """One record (住民票 or 除票) by resident code."""
    actor.require(Permission.READ_RESIDENTS)
    code = validate_resident_code(resident_code)
    with node.uow() as uow:
        view = view_of(uow, uow.residents.get_row(code))
        _record_reads(
            node, uow, actor, [code], action=Action.READ, items=("record",), reason=reason
        )
        uow.commit()
        return view


def read_resident_by_ref(
    node: ServiceContext, *, actor: Actor, record_ref: str, reason: str | None = None
) -> RecordView:
    """One record by the opaque reference pages use (``RecordView.record_ref``).

    An unknown reference is :class:`~jukinet.domain.errors.NotFound` (JUKI-REG-038), which
    names nothing about the reference or the resident.
    """
    actor.require(Permission.READ_RESIDENTS)
    with node.uow() as uow:
        row = uow.residents.get_row_by_ref(record_ref.strip())
        view = view_of(uow, row)
        _record_reads(
            node,
            uow,
            actor,
            [view.record.resident_code],
            action=Action.READ,
            items=("record",),
            reason=reason,
        )
        uow.commit()
        return view


def resident_codes_for_refs(
    node: ServiceContext, *, actor: Actor, record_refs: list[str]
) -> list[str]:
    """The resident codes behind page references, in the same order, for filing an event.

    The codes go straight to a register service in the same request and never to a screen,
    so nothing is shown and no read is logged here; the filing itself is logged (a write).
    Any unknown reference is :class:`~jukinet.domain.errors.NotFound` (JUKI-REG-038).
    """
    actor.require(Permission.READ_RESIDENTS)
    with node.uow() as uow:
        return [uow.residents.get_row_by_ref(ref.strip()).resident_code for ref in record_refs]


def reveal_resident_code(
    node: ServiceContext, *, actor: Actor, record_ref: str, reason: str
) -> str:
    """The full resident code of one record: an explicit act, logged with the operator's reason.

    Screens mask codes; an operator who needs the whole code (to write it on a certificate,
    to read it to another office) asks for it here. Requires ``REVEAL_CODES``: a role without
    it is refused (:class:`~jukinet.domain.errors.PermissionDenied`) before anything is read
    or logged. The reason is required (JUKI-REG-039) and is logged as
    ``code revealed: <reason>``, in the same transaction as the read.
    """
    actor.require(Permission.REVEAL_CODES)
    given = " ".join(reason.split()) if isinstance(reason, str) else ""
    if not given:
        raise ValidationError(
            "JUKI-REG-039",
            ja="住民票コードを表示する理由を入力してください。",
            en="Give the reason for showing the resident code.",
            field="reason",
        )
    if len(given) > MAX_REVEAL_REASON or not given.isprintable():
        raise ValidationError(
            "JUKI-REG-044",
            ja=f"理由は制御文字を含まない{MAX_REVEAL_REASON}文字以内の文にしてください。",
            en=(
                f"The reason must be at most {MAX_REVEAL_REASON} characters, "
                "without control characters."
            ),
            field="reason",
        )
    with node.uow() as uow:
        code = uow.residents.get_row_by_ref(record_ref.strip()).resident_code
        _record_reads(
            node,
            uow,
            actor,
            [code],
            action=Action.READ,
            items=("resident_code",),
            reason=REVEAL_REASON_PREFIX + given,
        )
        uow.commit()
        return code


def read_history(
    node: ServiceContext, *, actor: Actor, resident_code: str, reason: str | None = None
) -> list[HistoryEntry]:
    """Every version of one record, oldest first."""
    actor.require(Permission.READ_RESIDENTS)
    code = validate_resident_code(resident_code)
    with node.uow() as uow:
        row = uow.residents.get_row(code)
        versions = uow.residents.history(row)
        names = uow.operators.display_names({event.operator_id for _, event in versions})
        history = [
            history_entry(v, e, operator_name=names.get(e.operator_id, "")) for v, e in versions
        ]
        _record_reads(
            node, uow, actor, [code], action=Action.READ, items=("history",), reason=reason
        )
        uow.commit()
        return history


def read_household(
    node: ServiceContext, *, actor: Actor, household_number: str, reason: str | None = None
) -> HouseholdView:
    """A household with all its members."""
    actor.require(Permission.READ_RESIDENTS)
    with node.uow() as uow:
        household = uow.households.get(household_number.strip())
        members = uow.residents.household_members(household.id)
        view = HouseholdView(
            household_number=household.household_number, members=[view_of(uow, m) for m in members]
        )
        _record_reads(
            node,
            uow,
            actor,
            [m.record.resident_code for m in view.members],
            action=Action.READ,
            items=("household",),
            reason=reason,
        )
        uow.commit()
        return view


def search_residents(node: ServiceContext, *, actor: Actor, query: SearchQuery) -> list[RecordView]:
    """Candidates matching the folded name and/or birth date; never merges records."""
    actor.require(Permission.READ_RESIDENTS)
    name = (query.name or "").strip()
    if not name and query.birth_date is None:
        raise ValidationError(
            "JUKI-REG-040",
            ja="氏名（漢字またはカナ）か生年月日を入力してください。",
            en="Enter a name (kanji or kana) or a date of birth.",
            field="name",
        )
    if any(ord(c) < 0x20 for c in name):
        raise ValidationError(
            "JUKI-REG-042",
            ja="氏名に制御文字は使えません。",
            en="The name must not contain control characters.",
            field="name",
        )
    if len(name) > 60:
        raise ValidationError(
            "JUKI-REG-041",
            ja="検索する氏名は60文字以内にしてください。",
            en="The name to search for must be at most 60 characters.",
            field="name",
        )
    name_key = kana_key = None
    if name:
        if is_kana_query(name):
            kana_key = kana_search_key(name)
        else:
            name_key = name_search_key(name)
    limit = max(1, min(query.limit, MAX_SEARCH_RESULTS))
    with node.uow() as uow:
        rows = uow.residents.search(
            name_key=name_key,
            kana_key=kana_key,
            birth_date=query.birth_date,
            include_removed=query.include_removed,
            limit=limit,
        )
        views = [view_of(uow, r) for r in rows]
        _record_reads(
            node,
            uow,
            actor,
            [v.record.resident_code for v in views],
            action=Action.CANDIDATE,
            items=("search_result",),
            reason=None,
        )
        uow.commit()
        return views
