"""What prefectures and the national centre keep: identity-confirmation information with history.

Upstream nodes validate every notice before it touches their store. A malformed notice is
quarantined with its reason (the March 2013 incident: a bug sent malformed data and the centre
had to stop 200 municipalities); later notices for the *same* resident are held behind it, and
everybody else's keep flowing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from jukinet.domain.codes import validate_resident_code
from jukinet.domain.errors import DomainError, ValidationError
from jukinet.domain.identity import (
    ChangeReason,
    IdentityInfo,
    IdentityNotice,
    identity_digest,
    parse_notice_body,
    parse_snapshot_body,
)
from jukinet.domain.municipality import validate_municipality_code
from jukinet.domain.names import kana_search_key, name_search_key
from jukinet.domain.network import NodeId, NodeRole, parent_of
from jukinet.storage.tables import IdentityHistoryRow, IdentityRecordRow, InboxRow

APPLIED = "applied"
QUARANTINED = "quarantined"
HELD = "held"
FORWARDED = "forwarded"
DISCARDED = "discarded"
#: History reason of a snapshot (initial load or reconciliation), not a change.
SNAPSHOT_REASON = "S01"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one received message."""

    status: str
    reason: str | None = None
    #: Whether the message should travel on to this node's parent.
    forward: bool = False


def _expected_sender(here: NodeId, municipality_code: str) -> str:
    if here.role is NodeRole.PREFECTURE:
        return f"municipality:{municipality_code}"
    return f"prefecture:{municipality_code[:2]}"


def _check_origin(here: NodeId, sender: str, municipality_code: str) -> str | None:
    if here.role is NodeRole.PREFECTURE and municipality_code[:2] != here.code:
        return "the municipality does not belong to this prefecture"
    if sender != _expected_sender(here, municipality_code):
        return "the sender may not report for this municipality"
    return None


def held_subjects(session: Session, subjects: set[str]) -> set[str]:
    """Which of these residents have an earlier notice quarantined or held (one query)."""
    if not subjects:
        return set()
    return set(
        session.scalars(
            select(InboxRow.subject).where(
                InboxRow.subject.in_(subjects), InboxRow.status.in_((QUARANTINED, HELD))
            )
        )
    )


def prefetch_records(session: Session, codes: set[str]) -> None:
    """Load the batch's current records in one query; later lookups in this session use them,
    and codes not found are known to be new (no query per message)."""
    found: dict[str, IdentityRecordRow] = {}
    if codes:
        query = select(IdentityRecordRow).where(IdentityRecordRow.resident_code.in_(codes))
        found = {row.resident_code: row for row in session.scalars(query)}
    session.info[_RECORD_CACHE] = found


_RECORD_CACHE = "jukinet.identity_records"
_BULK = "jukinet.bulk_inserts"


def start_bulk(session: Session) -> None:
    """Buffer append-only rows (history, inbox, forwarded messages) for one INSERT per table.

    Building thousands of ORM objects per batch costs more than the database work; rows nobody
    reads back inside the batch are collected as plain values and written by :func:`flush_bulk`.
    """
    session.info[_BULK] = {}


def bulk_buffer(session: Session, table: type) -> list[dict[str, Any]] | None:
    """The buffer for ``table`` while bulk mode is on, else ``None``."""
    buffers: dict[type, list[dict[str, Any]]] | None = session.info.get(_BULK)
    if buffers is None:
        return None
    return buffers.setdefault(table, [])


def flush_bulk(session: Session) -> None:
    """Write the buffered rows (in the order they were buffered) and leave bulk mode."""
    buffers: dict[type, list[dict[str, Any]]] = session.info.pop(_BULK, {})
    session.flush()
    connection = session.connection()
    for table, rows in buffers.items():
        if rows:
            # Plain Core executemany on the table: the ORM's bulk path would rebuild each row.
            connection.execute(insert(table), rows)


def _find_record(session: Session, code: str) -> IdentityRecordRow | None:
    cache: dict[str, IdentityRecordRow] | None = session.info.get(_RECORD_CACHE)
    if cache is None:
        return session.get(IdentityRecordRow, code)
    return cache.get(code)


def _remember_record(session: Session, row: IdentityRecordRow) -> None:
    cache: dict[str, IdentityRecordRow] | None = session.info.get(_RECORD_CACHE)
    if cache is not None:
        cache[row.resident_code] = row


def subject_of(body: Any) -> str | None:
    """The resident a message is about, if it names one."""
    return _subject_of(body) if isinstance(body, dict) else None


def is_held(session: Session, subject: str) -> bool:
    """Whether an earlier notice for this resident is quarantined or held."""
    row = session.scalars(
        select(InboxRow.sequence)
        .where(InboxRow.subject == subject, InboxRow.status.in_((QUARANTINED, HELD)))
        .limit(1)
    ).first()
    return row is not None


def receive_identity_message(
    session: Session,
    *,
    here: NodeId,
    sender: str,
    kind: str,
    body: dict[str, Any],
    envelope_id: str,
    now: datetime,
    today: date,
    held: set[str] | None = None,
) -> tuple[Outcome, str | None]:
    """Validate and apply one identity message; returns the outcome and its subject.

    ``held`` (from :func:`held_subjects`) saves a query per message in a batch; it is updated
    when this message is quarantined or held.
    """
    subject = _subject_of(body)
    outcome = _receive(
        session,
        here=here,
        sender=sender,
        kind=kind,
        body=body,
        envelope_id=envelope_id,
        now=now,
        today=today,
        subject=subject,
        held=held,
    )
    if held is not None and subject is not None and outcome.status in (QUARANTINED, HELD):
        held.add(subject)
    return outcome, subject


def _receive(
    session: Session,
    *,
    here: NodeId,
    sender: str,
    kind: str,
    body: dict[str, Any],
    envelope_id: str,
    now: datetime,
    today: date,
    subject: str | None,
    held: set[str] | None,
) -> Outcome:
    if subject is not None and (subject in held if held is not None else is_held(session, subject)):
        return Outcome(HELD, "held behind an earlier quarantined notice for this resident")
    try:
        if kind == "identity_notice":
            notice = parse_notice_body(body, today=today)
            problem = _check_origin(here, sender, notice.municipality_code)
            if problem:
                return Outcome(QUARANTINED, problem)
            apply_notice(session, notice, envelope_id=envelope_id, now=now)
        elif kind == "identity_snapshot":
            info, municipality_code, deleted = parse_snapshot_body(body, today=today)
            problem = _check_origin(here, sender, municipality_code)
            if problem:
                return Outcome(QUARANTINED, problem)
            apply_snapshot(
                session,
                info,
                municipality_code=municipality_code,
                deleted=deleted,
                envelope_id=envelope_id,
                now=now,
            )
        elif kind == "identity_withdrawal":
            code, municipality_code = _parse_withdrawal(body)
            problem = _check_origin(here, sender, municipality_code)
            if problem:
                return Outcome(QUARANTINED, problem)
            withdraw(session, code, municipality_code=municipality_code)
        else:
            return Outcome(QUARANTINED, f"unknown kind {kind!r}")
    except DomainError as error:
        return Outcome(QUARANTINED, f"{error.code}: {error.message_en}")
    return Outcome(APPLIED, forward=parent_of(here) is not None)


def _subject_of(body: dict[str, Any]) -> str | None:
    identity = body.get("identity") if isinstance(body, dict) else None
    if isinstance(identity, dict) and isinstance(identity.get("resident_code"), str):
        return str(identity["resident_code"])[:40]
    code = body.get("resident_code") if isinstance(body, dict) else None
    return str(code)[:40] if isinstance(code, str) else None


def _parse_withdrawal(body: dict[str, Any]) -> tuple[str, str]:
    if set(body) != {"resident_code", "municipality_code"}:
        raise ValidationError(
            "JUKI-NET-011", ja="撤回通知の形式が不正です。", en="malformed withdrawal", field="body"
        )
    return (
        validate_resident_code(str(body["resident_code"])),
        validate_municipality_code(str(body["municipality_code"])),
    )


def _write(
    session: Session,
    info: IdentityInfo,
    *,
    municipality_code: str,
    deleted: bool,
    reason: str,
    changed_on: date,
    before: dict[str, Any] | None,
    envelope_id: str,
    now: datetime,
) -> None:
    row = _find_record(session, info.resident_code)
    if row is None:
        row = IdentityRecordRow(resident_code=info.resident_code, version=0)
        session.add(row)
        _remember_record(session, row)
    elif deleted and not row.deleted and row.municipality_code != municipality_code:
        # The person has already moved in elsewhere: the old municipality's deletion is history,
        # not the current state.
        _history(
            session,
            info,
            version=row.version + 1,
            municipality_code=municipality_code,
            reason=reason,
            changed_on=changed_on,
            before=before,
            deleted=deleted,
            envelope_id=envelope_id,
            now=now,
        )
        row.version += 1
        return
    row.municipality_code = municipality_code
    row.family_name = info.family_name
    row.given_name = info.given_name
    row.family_name_kana = info.family_name_kana
    row.given_name_kana = info.given_name_kana
    row.kana_key = kana_search_key(info.family_name_kana + info.given_name_kana)
    row.name_key = name_search_key(info.family_name + info.given_name)
    row.birth_date = info.birth_date
    row.sex = info.sex
    row.address = info.address
    row.deleted = deleted
    row.last_reason = reason
    row.last_changed_on = changed_on
    row.version = (row.version or 0) + 1
    row.digest = identity_digest(info, deleted=deleted)
    row.updated_at = now
    _history(
        session,
        info,
        version=row.version,
        municipality_code=municipality_code,
        reason=reason,
        changed_on=changed_on,
        before=before,
        deleted=deleted,
        envelope_id=envelope_id,
        now=now,
    )


def _history(
    session: Session,
    info: IdentityInfo,
    *,
    version: int,
    municipality_code: str,
    reason: str,
    changed_on: date,
    before: dict[str, Any] | None,
    deleted: bool,
    envelope_id: str,
    now: datetime,
) -> None:
    values = {
        "resident_code": info.resident_code,
        "version": version,
        "municipality_code": municipality_code,
        "identity": info.as_dict(),
        "reason": reason,
        "changed_on": changed_on,
        "before": before,
        "deleted": deleted,
        "source_envelope": envelope_id,
        "received_at": now,
    }
    buffered = bulk_buffer(session, IdentityHistoryRow)
    if buffered is not None:
        buffered.append(values)
        return
    session.add(IdentityHistoryRow(**values))


def apply_notice(
    session: Session, notice: IdentityNotice, *, envelope_id: str, now: datetime
) -> None:
    """Apply a validated notice to the store, keeping the version before it in history."""
    body = notice.as_body()
    before = body["change"]["before"]
    if notice.reason is ChangeReason.CODE_CHANGE and notice.before is not None:
        # The old code may have arrived earlier in the same batch (not yet flushed): look in the
        # batch's records first, then in the database.
        old = _find_record(session, notice.before.resident_code) or session.get(
            IdentityRecordRow, notice.before.resident_code
        )
        if old is not None and not old.deleted:
            old.deleted = True
            old.last_reason = notice.reason.value
            old.last_changed_on = notice.changed_on
            old.version += 1
            old.digest = identity_digest(notice.before, deleted=True)
            old.updated_at = now
    _write(
        session,
        notice.current,
        municipality_code=notice.municipality_code,
        deleted=notice.deleted,
        reason=notice.reason.value,
        changed_on=notice.changed_on,
        before=before,
        envelope_id=envelope_id,
        now=now,
    )


def apply_snapshot(
    session: Session,
    info: IdentityInfo,
    *,
    municipality_code: str,
    deleted: bool,
    envelope_id: str,
    now: datetime,
) -> None:
    """Set a resident's current state from a snapshot (initial load, reconciliation)."""
    _write(
        session,
        info,
        municipality_code=municipality_code,
        deleted=deleted,
        reason=SNAPSHOT_REASON,
        changed_on=now.date(),
        before=None,
        envelope_id=envelope_id,
        now=now,
    )


def withdraw(session: Session, resident_code: str, *, municipality_code: str) -> None:
    """A resident opted out of upstream notification: hold nothing about them any more."""
    row = _find_record(session, resident_code)
    if row is not None and row.municipality_code != municipality_code:
        return
    cache: dict[str, IdentityRecordRow] | None = session.info.get(_RECORD_CACHE)
    if cache is not None:
        cache.pop(resident_code, None)
    history = bulk_buffer(session, IdentityHistoryRow)
    if history:
        history[:] = [h for h in history if h["resident_code"] != resident_code]
    if row is not None:
        session.flush()  # pending changes to this row must not be written after its deletion
    session.execute(
        delete(IdentityHistoryRow).where(IdentityHistoryRow.resident_code == resident_code)
    )
    session.execute(
        delete(IdentityRecordRow).where(IdentityRecordRow.resident_code == resident_code)
    )
