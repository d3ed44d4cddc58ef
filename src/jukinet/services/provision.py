"""Provision to agencies (本人確認情報の提供): the gateway for recipients' queries.

Every query names a statutory affair. The affair is authorised against the registry **before
any personal data is read**; a refusal is recorded in the access log and answered with the
affair named. An authorised query returns only the items the affair may be given, and every
resident provided (or looked for and not found) gets an access-log entry committed in the
query's own transaction.

Where the node answers: the national centre answers every table; a prefecture answers tables
2–5 for its own residents (table 1 belongs to the centre). Tables 2–5 carry a scope — the
recipient's own prefecture (2, 5) or other prefectures (3, 4) — which becomes part of the
query's ``WHERE`` clause, so records outside it are never read.

On PostgreSQL with a streaming replica (``JUKINET_DATABASE_REPLICA_URL``), identity records are
read on the replica while it is reachable and fresh (:func:`on_replica`); the purpose check and
the access log stay in the query's transaction on the primary, in the same order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any, Final, NamedTuple, TypeVar

from sqlalchemy import BindParameter, Select, bindparam, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from jukinet.domain.access_log import AccessEntry, Action, ActorKind, Channel
from jukinet.domain.affairs import AffairRegistry, Authorisation, IdentityItem
from jukinet.domain.codes import validate_resident_code
from jukinet.domain.errors import DomainError, PermissionDenied, ValidationError
from jukinet.domain.four_items import (
    Candidate,
    FourItemsQuery,
    IndexKind,
    IndexLookup,
    MatchReport,
    rank,
)
from jukinet.domain.identity import ChangeReason
from jukinet.domain.network import NodeRole
from jukinet.services.context import ServiceContext
from jukinet.services.emergency.enforcement import check_provision_open
from jukinet.storage import access_log
from jukinet.storage.identity_records import HELD_RECORD
from jukinet.storage.registry import RegistryCache
from jukinet.storage.tables import IdentityRecordRow
from jukinet.storage.unit_of_work import UnitOfWork
from jukinet.storage.value_lists import column_in, pair_in

_Statement = TypeVar("_Statement", bound="Select[*tuple[Any, ...]]")
_Read = TypeVar("_Read")

#: Codes in one online query; more belong in a batch job.
MAX_CODES_PER_QUERY: Final = 1000
#: Candidates one four-items query returns at most.
MAX_CANDIDATES: Final = 20
#: Rows fetched by the four-items index before ranking (a name + birth date is selective).
_CANDIDATE_FETCH: Final = 500
#: Longest list of codes bound as an ``IN`` list; longer ones go as one parameter
#: (:mod:`jukinet.storage.value_lists`).
_SHORT_LIST: Final = 20


class TableNotAnsweredHere(PermissionDenied):
    """A prefecture does not answer table 1 affairs: those are the national centre's."""

    def __init__(self, affair_code: str) -> None:
        super().__init__(
            "JUKI-PRV-001",
            ja=f"事務 {affair_code} は別表第一の事務です。照会は地方公共団体情報システム機構"
            "（全国センター）に行ってください。",
            en=f"Affair {affair_code} is in appended table 1: query the national centre.",
            field="affair_code",
        )


class NotARecipient(PermissionDenied):
    """A valid network certificate that names no registered recipient (e.g. a node's)."""

    def __init__(self) -> None:
        super().__init__(
            "JUKI-PRV-010",
            ja="この証明書の主体は受領者として登録されていません。",
            en="The certificate's holder is not a registered recipient.",
        )


class InvalidQueryContext(ValidationError):
    """The officer or case number is missing or malformed."""

    def __init__(self, field_name: str, *, ja: str, en: str) -> None:
        super().__init__("JUKI-PRV-002", ja=ja, en=en, field=field_name)


class TooManyCodes(ValidationError):
    """More codes than one online query takes."""

    def __init__(self) -> None:
        super().__init__(
            "JUKI-PRV-003",
            ja=f"一度に照会できる住民票コードは{MAX_CODES_PER_QUERY}件までです。"
            "それ以上は一括照会を使ってください。",
            en=f"One query takes at most {MAX_CODES_PER_QUERY} resident codes; use a batch job "
            "for more.",
            field="resident_codes",
        )


class NoCodes(ValidationError):
    """An empty list of codes."""

    def __init__(self) -> None:
        super().__init__(
            "JUKI-PRV-004",
            ja="住民票コードを1件以上指定してください。",
            en="Give at least one resident code.",
            field="resident_codes",
        )


@dataclass(frozen=True, slots=True)
class QueryContext:
    """Who asks, for which affair, under which case: named on every query.

    ``recipient_id`` comes from the client certificate, never from the request body.
    """

    recipient_id: str
    affair_code: str
    officer: str
    case_number: str | None = None
    channel: Channel = Channel.AGENCY_API

    def __post_init__(self) -> None:
        officer = self.officer.strip() if isinstance(self.officer, str) else ""
        if not officer or len(officer) > 80 or not officer.isprintable():
            raise InvalidQueryContext(
                "officer",
                ja="照会する職員名（1〜80文字）を指定してください。",
                en="Name the officer making the query (1 to 80 printable characters).",
            )
        object.__setattr__(self, "officer", officer)
        case = self.case_number
        if case is not None:
            case = case.strip()
            if len(case) > 80 or not case.isprintable():
                raise InvalidQueryContext(
                    "case_number",
                    ja="事案番号は80文字以内の印字可能な文字です。",
                    en="The case number is at most 80 printable characters.",
                )
            object.__setattr__(self, "case_number", case or None)


@dataclass(frozen=True, slots=True)
class Scope:
    """Which residents an authorised affair may see here, as a filter on municipality codes."""

    prefecture_code: str | None = None
    same_prefecture: bool | None = None

    def apply(self, statement: _Statement) -> _Statement:
        """Restrict ``statement`` (over identity_records) to the scope."""
        if self.same_prefecture is None or self.prefecture_code is None:
            return statement
        column = IdentityRecordRow.municipality_code
        prefix = f"{self.prefecture_code}%"
        if self.same_prefecture:
            return statement.where(column.like(prefix))
        return statement.where(column.not_like(prefix))


@dataclass(frozen=True, slots=True)
class Granted:
    """An authorised query: the affair, the items it gets, and the scope to read within.

    ``items`` (canonical order) and ``item_names`` (as the log records them) are derived once
    here: a batch uses them for every one of millions of rows.
    """

    authorisation: Authorisation
    scope: Scope
    items: tuple[IdentityItem, ...] = field(init=False)
    item_names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        items = self.authorisation.ordered_items
        object.__setattr__(self, "items", items)
        object.__setattr__(self, "item_names", tuple(item.value for item in items))


def _provider_prefecture(node: ServiceContext) -> str | None:
    if node.node_id.role is NodeRole.PREFECTURE:
        return node.node_id.code
    return None


def _refusal_entry(
    node: ServiceContext, ctx: QueryContext, error: DomainError, **detail: Any
) -> AccessEntry:
    return AccessEntry(
        recorded_at=node.now(),
        node=str(node.node_id),
        action=Action.REFUSED,
        channel=ctx.channel,
        actor_kind=ActorKind.RECIPIENT,
        actor=ctx.recipient_id[:80],
        affair_code=ctx.affair_code[:20] if ctx.affair_code.isprintable() else None,
        reason=f"{error.code}: {error.message_en}"[:200],
        officer=ctx.officer,
        case_number=ctx.case_number,
        detail=detail,
    )


def record_refusal(
    node: ServiceContext, ctx: QueryContext, error: DomainError, **detail: Any
) -> None:
    """Record a refused query in its own transaction (nothing else happens in it)."""
    with node.uow() as uow:
        access_log.record(uow.session, [_refusal_entry(node, ctx, error, **detail)])
        uow.commit()


def authorise(
    node: ServiceContext, cache: RegistryCache, ctx: QueryContext, **detail: Any
) -> Granted:
    """The purpose check, run before any personal data is read; a refusal is recorded (in a
    transaction of its own)."""
    with node.read_session() as session:
        registry = cache.get(session)
    try:
        return _grant(node, registry, ctx)
    except DomainError as error:
        record_refusal(node, ctx, error, **detail)
        raise


def authorise_within(
    node: ServiceContext, cache: RegistryCache, ctx: QueryContext, session: Session, **detail: Any
) -> Granted:
    """:func:`authorise` inside the query's own transaction, before it reads anything.

    An online query then needs one connection and one transaction. On a refusal the entry is
    queued in ``session``: the caller commits it (and nothing else has been read) and re-raises.
    """
    try:
        return _grant(node, cache.get(session), ctx)
    except DomainError as error:
        access_log.record(session, [_refusal_entry(node, ctx, error, **detail)])
        raise


def _grant(node: ServiceContext, registry: AffairRegistry, ctx: QueryContext) -> Granted:
    if ctx.recipient_id not in registry.recipients:
        raise NotARecipient()
    provider = _provider_prefecture(node)
    authorisation = registry.authorise(
        ctx.recipient_id,
        ctx.affair_code,
        on=node.today(),
        provider_prefecture_code=provider,
    )
    affair = authorisation.affair
    # An emergency disconnect of this agency or affair, or threat level 3 (urgent affairs only).
    check_provision_open(node, ctx.recipient_id, affair.code)
    if provider is not None and affair.table == 1:
        raise TableNotAnsweredHere(affair.code)
    same = affair.recipient_kind.same_prefecture
    scope = Scope(authorisation.recipient.prefecture_code, same) if provider is None else Scope()
    return Granted(authorisation, scope)


# --------------------------------------------------------------------------------------------
# What is provided
# --------------------------------------------------------------------------------------------


@cache
def _reason_labels(reason: str) -> tuple[str, str]:
    try:
        known = ChangeReason(reason)
    except ValueError:
        return reason, reason
    return known.label_ja, known.label_en


def _change_info(row: Any) -> dict[str, Any]:
    label_ja, label_en = _reason_labels(row.last_reason)
    return {
        "reason": row.last_reason,
        "label_ja": label_ja,
        "label_en": label_en,
        "changed_on": row.last_changed_on.isoformat(),
        "deleted": bool(row.deleted),
    }


def _give_code(row: Any, out: dict[str, Any]) -> None:
    out["resident_code"] = row.resident_code


def _give_name(row: Any, out: dict[str, Any]) -> None:
    out["name"] = {
        "family": row.family_name,
        "given": row.given_name,
        "family_kana": row.family_name_kana,
        "given_kana": row.given_name_kana,
    }
    # The glyphs' MJ identifiers travel with a name that needs them (domain/mj_names.py).
    if row.family_name_mj:
        out["name"]["family_mj"] = row.family_name_mj
    if row.given_name_mj:
        out["name"]["given_mj"] = row.given_name_mj


def _give_birth_date(row: Any, out: dict[str, Any]) -> None:
    out["birth_date"] = row.birth_date.isoformat()


def _give_sex(row: Any, out: dict[str, Any]) -> None:
    out["sex"] = row.sex


def _give_address(row: Any, out: dict[str, Any]) -> None:
    out["address"] = row.address
    out["municipality_code"] = row.municipality_code


def _give_change(row: Any, out: dict[str, Any]) -> None:
    out["change"] = _change_info(row)


# A table rather than a chain of ``is`` tests: enum member lookups are descriptor calls, and a
# batch shapes millions of records.
_GIVERS: Final[dict[IdentityItem, Callable[[Any, dict[str, Any]], None]]] = {
    IdentityItem.RESIDENT_CODE: _give_code,
    IdentityItem.NAME: _give_name,
    IdentityItem.BIRTH_DATE: _give_birth_date,
    IdentityItem.SEX: _give_sex,
    IdentityItem.ADDRESS: _give_address,
    IdentityItem.CHANGE_INFO: _give_change,
}


def provided_record(row: Any, items: Sequence[IdentityItem]) -> dict[str, Any]:
    """The items of one identity record an affair may be given (and its status, always)."""
    out: dict[str, Any] = {"status": "deleted" if row.deleted else "current"}
    for item in items:
        _GIVERS[item](row, out)
    return out


def _entry(
    node: ServiceContext,
    ctx: QueryContext,
    granted: Granted,
    *,
    action: Action,
    subject: str | None,
    job_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AccessEntry:
    provided = action in (Action.READ, Action.CANDIDATE)
    return AccessEntry(
        recorded_at=node.now(),
        node=str(node.node_id),
        action=action,
        channel=ctx.channel,
        actor_kind=ActorKind.RECIPIENT,
        actor=ctx.recipient_id,
        subject=subject,
        affair_code=granted.authorisation.affair.code,
        reason=granted.authorisation.affair.law_name or None,
        items=granted.item_names if provided else (),
        officer=ctx.officer,
        case_number=ctx.case_number,
        job_id=job_id,
        detail=detail or {},
    )


# --------------------------------------------------------------------------------------------
# Online queries
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CodeAnswer:
    """One code's answer: ``found`` with the record, ``not_found``, or ``invalid`` (format)."""

    resident_code: str
    outcome: str
    record: dict[str, Any] | None = None
    error: dict[str, str | None] | None = None


def _checked_codes(codes: Sequence[str]) -> list[tuple[str, str | None, DomainError | None]]:
    if not codes:
        raise NoCodes()
    if len(codes) > MAX_CODES_PER_QUERY:
        raise TooManyCodes()
    checked: list[tuple[str, str | None, DomainError | None]] = []
    for given in codes:
        try:
            checked.append((given, validate_resident_code(given), None))
        except ValidationError as error:
            checked.append((given, None, error))
    return checked


class ProvidedRow(NamedTuple):
    """One identity record as the gateway reads it (the columns of
    :data:`~jukinet.storage.identity_records.HELD_RECORD`, in their order).

    A plain named tuple: a batch touches a dozen fields of millions of rows, and its attribute
    access costs a tenth of a database row's.
    """

    resident_code: str
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: date
    sex: str
    address: str
    family_name_mj: str
    given_name_mj: str
    municipality_code: str
    deleted: bool
    last_reason: str
    last_changed_on: date


def _authorised(
    node: ServiceContext, cache: RegistryCache, ctx: QueryContext, uow: UnitOfWork, **detail: Any
) -> Granted:
    try:
        return authorise_within(node, cache, ctx, uow.session, **detail)
    except DomainError:
        uow.commit()  # only the refusal's entry: nothing was read
        raise


def fetch_records(session: Session, codes: Iterable[str], scope: Scope) -> dict[str, ProvidedRow]:
    """The identity records among ``codes`` within ``scope``, keyed by code."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    connection = session.connection()
    if len(wanted) <= _SHORT_LIST:
        rows = connection.execute(_records_by_codes(scope), {"codes": wanted})
    else:
        code = IdentityRecordRow.resident_code
        condition = column_in(code, wanted, connection.dialect.name)
        rows = connection.execute(scope.apply(select(*HELD_RECORD).where(condition)))
    # Core, not ORM, execution: plain rows, without the ORM's per-row loading machinery.
    return {row[0]: ProvidedRow._make(row) for row in rows}


def on_replica(node: ServiceContext, read: Callable[[Session], _Read]) -> _Read | None:
    """``read`` run on the node's streaming replica, or ``None`` when there is none, it may not
    serve now (unreachable, not streaming, lagging beyond the bound) or the read failed there:
    the caller then reads on the primary. Only identity records are read this way; grants and
    the access log stay on the primary (:mod:`jukinet.storage.replica`)."""
    replica = node.replica
    if replica is None:
        return None
    session = replica.session()
    if session is None:
        return None
    try:
        with session:
            result = read(session)
    except SQLAlchemyError as error:
        replica.read_failed(error)
        return None
    replica.served += 1
    return result


def fetch_identity_records(
    node: ServiceContext, primary: Session, codes: Iterable[str], scope: Scope
) -> dict[str, ProvidedRow]:
    """:func:`fetch_records`, from the replica when it serves. A code the replica does not hold
    is looked for on the primary too: a resident registered a moment ago is never answered
    "not found" because the replica has not replayed them yet."""
    wanted = list(codes)
    found = on_replica(node, lambda session: fetch_records(session, wanted, scope))
    if found is None:
        return fetch_records(primary, wanted, scope)
    missing = [code for code in wanted if code not in found]
    if missing:
        found |= fetch_records(primary, missing, scope)
    return found


@cache
def _records_by_codes(scope: Scope) -> Select[*tuple[Any, ...]]:
    # Built once per scope: an online lookup runs it on every request.
    codes: BindParameter[list[str]] = bindparam("codes", expanding=True)
    statement: Select[*tuple[Any, ...]] = select(*HELD_RECORD)
    return scope.apply(statement.where(IdentityRecordRow.resident_code.in_(codes)))


def lookup_by_codes(
    node: ServiceContext, cache: RegistryCache, ctx: QueryContext, codes: Sequence[str]
) -> list[CodeAnswer]:
    """Answer a query by one or many resident codes, in the order asked."""
    checked = _checked_codes(codes)
    answers: list[CodeAnswer] = []
    entries: list[AccessEntry] = []
    with node.uow() as uow:
        granted = _authorised(node, cache, ctx, uow, codes=len(codes))
        wanted = [code for _, code, _ in checked if code]
        found = fetch_identity_records(node, uow.session, wanted, granted.scope)
        for given, code, error in checked:
            if code is None:
                assert error is not None
                answers.append(CodeAnswer(given[:11], "invalid", error=error.as_dict()))
                continue
            row = found.get(code)
            if row is None:
                answers.append(CodeAnswer(code, "not_found"))
                entries.append(_entry(node, ctx, granted, action=Action.NOT_FOUND, subject=code))
                continue
            answers.append(CodeAnswer(code, "found", provided_record(row, granted.items)))
            entries.append(_entry(node, ctx, granted, action=Action.READ, subject=code))
        access_log.record(uow.session, entries)
        uow.commit()
    return answers


@dataclass(frozen=True, slots=True)
class CandidateAnswer:
    """One candidate of a four-items query and how each item matched."""

    match: dict[str, str]
    score: int
    record: dict[str, Any]


def fetch_candidates(session: Session, query: FourItemsQuery, scope: Scope) -> list[Candidate]:
    """Candidates by the indexed key the query names (kanji or kana name key + birth date)."""
    lookup = query.lookup
    column = (
        IdentityRecordRow.name_key if lookup.kind is IndexKind.NAME else IdentityRecordRow.kana_key
    )
    statement = scope.apply(
        select(*HELD_RECORD)
        .where(column == lookup.key, IdentityRecordRow.birth_date == lookup.birth_date)
        .order_by(IdentityRecordRow.resident_code)
        .limit(_CANDIDATE_FETCH)
    )
    return [candidate_of_row(row) for row in session.execute(statement)]


def fetch_candidates_many(
    session: Session, lookups: Iterable[IndexLookup], scope: Scope
) -> dict[IndexLookup, list[ProvidedRow]]:
    """Candidate rows for many lookups at once (a batch chunk): one query per index kind.

    Each lookup gets the same rows :func:`fetch_candidates` would fetch for it alone — by key and
    birth date, in resident-code order, at most ``_CANDIDATE_FETCH`` — and every row carries
    the provided columns too, so the chunk reads each candidate once.
    """
    wanted: dict[IndexKind, set[tuple[str, date]]] = {}
    for lookup in lookups:
        wanted.setdefault(lookup.kind, set()).add((lookup.key, lookup.birth_date))
    found: dict[IndexLookup, list[ProvidedRow]] = {}
    connection = session.connection()
    for kind, pairs in wanted.items():
        records = IdentityRecordRow
        column = records.kana_key if kind is IndexKind.KANA else records.name_key
        key_column = column.label("lookup_key")
        statement = scope.apply(
            select(*HELD_RECORD, key_column)
            .where(pair_in(column, records.birth_date, sorted(pairs), connection.dialect.name))
            .order_by(records.resident_code)
        )
        for row in connection.execute(statement):
            record = ProvidedRow._make(row[:-1])
            key = str(row[-1])
            rows = found.setdefault(IndexLookup(kind, key, record.birth_date), [])
            if len(rows) < _CANDIDATE_FETCH:
                rows.append(record)
    return found


def candidate_of_row(row: Any) -> Candidate:
    """A fetched record as the four-items ranking takes it."""
    return Candidate(
        resident_code=row.resident_code,
        family_name=row.family_name,
        given_name=row.given_name,
        family_name_kana=row.family_name_kana,
        given_name_kana=row.given_name_kana,
        birth_date=row.birth_date,
        sex=row.sex,
        address=row.address,
    )


def search_four_items(
    node: ServiceContext, cache: RegistryCache, ctx: QueryContext, query: FourItemsQuery
) -> list[CandidateAnswer]:
    """Candidates for the four basic items, best first, each with how it matched; never merged."""
    with node.uow() as uow:
        granted = _authorised(node, cache, ctx, uow)

        def read(
            session: Session,
        ) -> tuple[list[tuple[Candidate, MatchReport]], dict[str, ProvidedRow]]:
            candidates = fetch_candidates(session, query, granted.scope)
            ranked = rank(query, candidates, limit=MAX_CANDIDATES)
            codes = [candidate.resident_code for candidate, _ in ranked]
            return ranked, fetch_records(session, codes, granted.scope)

        # From the replica when it serves; nobody found there is looked for on the primary too.
        on_replica_read = on_replica(node, read)
        ranked, rows = (
            on_replica_read if on_replica_read and on_replica_read[0] else read(uow.session)
        )
        codes = [candidate.resident_code for candidate, _ in ranked]
        answers = [
            CandidateAnswer(
                report.as_dict(),
                report.score,
                provided_record(rows[candidate.resident_code], granted.items),
            )
            for candidate, report in ranked
        ]
        access_log.record(
            uow.session,
            [_entry(node, ctx, granted, action=Action.CANDIDATE, subject=code) for code in codes],
        )
        uow.commit()
    return answers


def affairs_for(
    node: ServiceContext, cache: RegistryCache, recipient_id: str
) -> list[dict[str, Any]]:
    """The affairs ``recipient_id`` may use today (empty for an unknown recipient)."""
    with node.read_session() as session:
        registry = cache.get(session)
    if recipient_id not in registry.recipients:
        return []
    today: date = node.today()
    return [
        {
            "affair_code": affair.code,
            "table": affair.table,
            "affair": affair.affair,
            "law": affair.law_name,
            "items": [
                item.value for item in IdentityItem if item in registry.items.items_for(affair.code)
            ],
        }
        for affair in registry.affairs_for(recipient_id, today)
    ]
