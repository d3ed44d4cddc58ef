"""Enter a (synthetic) population on the register in bulk: 職権記載 by the thousand.

Writes what the counter services write for an ex-officio entry — the household, the resident
row (version 1), its first version in the history, an identity notice in the outbox (unless the
municipality is disconnected) and a register event (one per batch) — but with one bulk insert
per table per batch (``executemany`` on SQLite, ``COPY`` on PostgreSQL) instead of one ORM flush
per person. Each batch is one transaction: it commits whole or leaves nothing behind.

Every record is checked with the same domain rules as at the counter (names, readings, birth
date, domicile, address, one head per household) before its batch's transaction opens.

Measured on the 2-core development machine, 100,000 residents take about 25–35 s on either
backend (``jukinet seed --residents 100000``).
"""

from __future__ import annotations

import dataclasses
import functools
import random
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, func, select, text, update
from sqlalchemy.orm import Session

from jukinet.data.mj_table import identified
from jukinet.domain import register as rules
from jukinet.domain.addresses import validate_address
from jukinet.domain.codes import random_resident_codes
from jukinet.domain.errors import Conflict, ValidationError
from jukinet.domain.identity import ChangeReason, IdentityNotice
from jukinet.domain.messages import MessageKind
from jukinet.domain.names import PersonName, validate_kana, validate_name
from jukinet.domain.operators import Actor, Permission, Role
from jukinet.domain.register import ResidentRecord
from jukinet.seed.model import SyntheticHousehold
from jukinet.services.codes import MAX_ALLOTMENT
from jukinet.services.context import ServiceContext
from jukinet.storage import bulk
from jukinet.storage.repositories import (
    CODE_AVAILABLE,
    CODE_ISSUED,
    insurance_to_dict,
    kana_key_of,
    name_key_of,
    record_to_snapshot,
)
from jukinet.storage.tables import (
    HouseholdRow,
    OperatorRow,
    OutboxRow,
    ResidentCodeRow,
    ResidentRow,
    ResidentVersionRow,
    new_record_ref,
    table_of,
)

__all__ = [
    "EVENT_KIND",
    "SYSTEM_OPERATOR",
    "allot_codes_in_bulk",
    "load_population",
    "system_operator_id",
]

#: The register event each batch is recorded under.
EVENT_KIND = "ex_officio_entry"
#: The account that server-side commands (``actor=None``) act as: inactive, cannot sign in.
SYSTEM_OPERATOR = "system"
_EVENT_NOTE = "一括職権記載（合成人口） / bulk ex-officio entry (synthetic population)"
#: Codes per IN (…) list; below SQLite's limit of 32,766 bound parameters.
_ALLOT_CHUNK = 10_000

Progress = Callable[[int, int], None]

_households = table_of(HouseholdRow)
_residents = table_of(ResidentRow)
_versions = table_of(ResidentVersionRow)
_outbox = table_of(OutboxRow)
_codes = table_of(ResidentCodeRow)


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A household whose members passed validation, waiting for codes and a number."""

    records: list[ResidentRecord]


def system_operator_id(node: ServiceContext) -> int:
    """The id of the inactive ``system`` account, created on first use.

    Register events and resident rows name the operator who wrote them; a command run on the
    server itself (``actor=None``) writes as this account, which has no usable password and is
    inactive, so nobody can sign in as it.
    """
    with node.uow() as uow:
        row = uow.operators.by_username(SYSTEM_OPERATOR)
        if row is not None:
            return row.id
        row = uow.operators.add(
            OperatorRow(
                username=SYSTEM_OPERATOR,
                display_name="システム",
                role=Role.SUPERVISOR.value,
                password_hash="!",  # noqa: S106 - not a hash: no password ever matches it
                active=False,
                created_at=node.now(),
            )
        )
        operator_id = row.id
        uow.commit()
        return operator_id


def allot_codes_in_bulk(
    node: ServiceContext, *, count: int, rng: random.Random | None = None
) -> int:
    """Add ``count`` fresh random codes to this municipality's pool; returns the pool size.

    The same contract as :func:`jukinet.services.codes.allot_codes` (stand-in for the national
    centre; codes never seen on this node before), built for large counts: one existence query
    per 10,000 codes and one multi-row INSERT, in one transaction.
    """
    if count < 1 or count > MAX_ALLOTMENT:
        raise ValidationError(
            "JUKI-CODE-012",
            ja=f"割当て数は1以上{MAX_ALLOTMENT}以下にしてください。",
            en=f"The allotment must be between 1 and {MAX_ALLOTMENT} codes.",
            field="count",
        )
    generator = rng or random.Random(secrets.randbits(128))  # noqa: S311 - seeded from secrets
    now = node.now()
    with node.uow() as uow:
        remaining = count
        while remaining:
            batch = random_resident_codes(generator, min(remaining, _ALLOT_CHUNK))
            known = uow.codes.known(batch)
            fresh = [c for c in batch if c not in known]
            if fresh:
                bulk.insert_rows(
                    uow.session,
                    _codes,
                    [
                        {
                            "code": c,
                            "municipality_code": node.municipality_code,
                            "state": CODE_AVAILABLE,
                            "allotted_at": now,
                            "issued_at": None,
                            "retired_at": None,
                        }
                        for c in fresh
                    ],
                )
            remaining -= len(fresh)
        uow.commit()
    with node.uow() as read:
        return read.codes.available_count(node.municipality_code)


def _analyze(node: ServiceContext, *tables: Table) -> None:
    """Refresh PostgreSQL's statistics of ``tables`` after a bulk change (no-op on SQLite).

    Without them the planner keeps the estimates of an empty table: after a few executions
    psycopg prepares the code-claiming UPDATE, PostgreSQL switches to a generic plan, walks the
    whole pool through the state index and compares each code with every one of the batch's
    2,000: seven seconds a batch instead of a tenth of one.
    """
    if node.engine.dialect.name != "postgresql":
        return
    with node.engine.begin() as connection:
        preparer = connection.dialect.identifier_preparer
        for table in tables:
            connection.exec_driver_sql(f"ANALYZE {preparer.format_table(table)}")


def _top_up_pool(node: ServiceContext, needed: int, rng: random.Random) -> None:
    """Allot codes until the pool holds at least ``needed``."""
    with node.uow() as uow:
        available = uow.codes.available_count(node.municipality_code)
    shortfall = needed - available
    while shortfall > 0:
        step = min(shortfall, MAX_ALLOTMENT)
        allot_codes_in_bulk(node, count=step, rng=rng)
        shortfall -= step


class _Validator:
    """The counter's validation rules, remembered per distinct value for the length of a load.

    The rules are pure functions of the text, and a population repeats its family names,
    readings, domiciles and addresses many times over; checking each distinct value once makes
    validation several times cheaper while applying exactly the same rules (errors are never
    cached, so every bad value raises).
    """

    def __init__(self, *, municipality_code: str, today: date) -> None:
        self.municipality_code = municipality_code
        self.today = today
        cache = functools.lru_cache(maxsize=1 << 16)
        self.family = cache(functools.partial(validate_name, field="family_name"))
        self.given = cache(functools.partial(validate_name, field="given_name"))
        self.family_kana = cache(functools.partial(validate_kana, field="family_name_kana"))
        self.given_kana = cache(functools.partial(validate_kana, field="given_name_kana"))
        self.address = cache(validate_address)
        self.previous_address = cache(functools.partial(validate_address, field="previous_address"))
        self.domicile = cache(rules.validate_domicile)

    def household(self, household: SyntheticHousehold) -> _Prepared:
        """Validate one household; raises ``ValidationError`` on the first broken rule."""
        if not household.members:
            raise ValidationError(
                "JUKI-SEED-002",
                ja="世帯に構成員がいません。",
                en="The household has no members.",
                field="members",
            )
        address = self.address(household.address)
        records: list[ResidentRecord] = []
        for person in household.members:
            # What PersonName.create does, with each part's check remembered.
            name = identified(
                PersonName(
                    family=self.family(person.family_name),
                    given=self.given(person.given_name),
                    family_kana=self.family_kana(person.family_name_kana),
                    given_kana=self.given_kana(person.given_name_kana),
                )
            )
            rules.validate_birth_date(person.birth_date, today=self.today)
            if not (
                person.birth_date <= person.became_resident_on <= person.address_since <= self.today
            ):
                raise ValidationError(
                    "JUKI-SEED-001",
                    ja="生年月日・住民となった日・住所を定めた日の順序が正しくありません。",
                    en="Birth date, date of becoming a resident and address date are out of order.",
                    field="became_resident_on",
                )
            previous = (
                None
                if person.previous_address is None
                else self.previous_address(person.previous_address)
            )
            domicile, domicile_head = self.domicile(person.domicile, person.domicile_head)
            records.append(
                ResidentRecord(
                    resident_code="",  # drawn from the pool inside the batch's transaction
                    municipality_code=self.municipality_code,
                    name=name,
                    birth_date=person.birth_date,
                    sex=person.sex,
                    household_number="",  # derived from the household's id, likewise
                    relationship=person.relationship,
                    address=address,
                    became_resident_on=person.became_resident_on,
                    address_since=person.address_since,
                    previous_address=previous,
                    domicile=domicile,
                    domicile_head=domicile_head,
                    insurance=person.insurance,
                )
            )
        rules.check_household(records)
        return _Prepared(records=records)


def _reserve_ids(session: Session, table: Table, count: int) -> list[int]:
    """``count`` primary keys for rows this transaction is about to insert.

    PostgreSQL: taken from the column's sequence, so concurrent clerks never collide. SQLite:
    ``max(id) + 1 …``, safe because the transaction already holds the write lock (BEGIN
    IMMEDIATE) and is exactly what SQLite would assign itself.
    """
    if count == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        ids = session.scalars(
            text(
                "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"
            ),
            {"table": table.name, "n": count},
        ).all()
        return sorted(int(i) for i in ids)
    start = int(session.scalar(select(func.max(table.c.id))) or 0)
    return list(range(start + 1, start + count + 1))


def _draw_codes(
    session: Session, municipality_code: str, count: int, now: datetime, *, after: str | None
) -> list[str]:
    """Take ``count`` codes from the pool and mark them issued (in the caller's transaction).

    Codes are taken in code order from ``after`` on (the last code of the previous batch), so
    each batch reads the next slice of the pool instead of the whole pool again. If nothing is
    left past ``after`` (the pool was topped up meanwhile with lower codes), the scan starts
    over from the lowest code.

    Candidates are claimed with ``UPDATE … WHERE state = 'available' RETURNING``: a code a clerk
    draws at the same moment fails that re-check (PostgreSQL re-evaluates it after waiting for
    the clerk's row lock), so no code is ever issued twice, and the shortfall is drawn again.
    A seeded load from the same pool therefore hands out the same codes.
    """
    available = (_codes.c.municipality_code == municipality_code) & (
        _codes.c.state == CODE_AVAILABLE
    )
    codes: list[str] = []
    cursor = after
    while len(codes) < count:
        stmt = select(_codes.c.code).where(available)
        if cursor is not None:
            stmt = stmt.where(_codes.c.code > cursor)
        candidates = list(session.scalars(stmt.order_by(_codes.c.code).limit(count - len(codes))))
        if not candidates:
            if cursor is not None:
                cursor = None  # wrap around once
                continue
            raise Conflict(
                "JUKI-CODE-010",
                ja="住民票コードの割当てが残っていません。全国センターに追加の割当てを依頼してください。",
                en="The pool of resident codes is empty; ask the national centre for more.",
                field="resident_code",
            )
        cursor = candidates[-1]
        for start in range(0, len(candidates), _ALLOT_CHUNK):
            chunk = candidates[start : start + _ALLOT_CHUNK]
            codes += session.scalars(
                update(_codes)
                .where(available, _codes.c.code.in_(chunk))
                .values(state=CODE_ISSUED, issued_at=now)
                .returning(_codes.c.code)
            )
    return sorted(codes)


def _write_batch(
    node: ServiceContext,
    batch: Sequence[_Prepared],
    *,
    operator_id: int,
    terminal_id: str | None,
    rng: random.Random,
    after: str | None,
) -> tuple[int, str]:
    """One transaction: households, residents, versions, notices and the event of a batch.

    Returns the residents written and the highest code drawn (where the next batch starts).
    """
    now, today = node.now(), node.today()
    municipality = node.municipality_code
    people = sum(len(h.records) for h in batch)
    with node.uow() as uow:
        session = uow.session
        household_ids = _reserve_ids(session, _households, len(batch))
        resident_ids = iter(_reserve_ids(session, _residents, people))
        codes = _draw_codes(session, municipality, people, now, after=after)
        last_code = codes[-1]
        # Drawn in code order; handed out in random order.
        rng.shuffle(codes)
        code_iter = iter(codes)
        event_id = uow.events.add(
            kind=EVENT_KIND,
            event_date=today,
            filed_on=today,
            late=False,
            operator_id=operator_id,
            terminal_id=terminal_id,
            now=now,
            note=_EVENT_NOTE,
        ).id

        household_rows: list[dict[str, Any]] = []
        resident_rows: list[dict[str, Any]] = []
        version_rows: list[dict[str, Any]] = []
        outbox_rows: list[dict[str, Any]] = []
        for household_id, prepared in zip(household_ids, batch, strict=True):
            number = f"{household_id:010d}"
            household_rows.append(
                {
                    "id": household_id,
                    "household_number": number,
                    "municipality_code": municipality,
                    "created_at": now,
                }
            )
            records = [
                dataclasses.replace(r, resident_code=next(code_iter), household_number=number)
                for r in prepared.records
            ]
            for record in records:
                resident_id = next(resident_ids)
                resident_rows.append(
                    _resident_row(record, resident_id, household_id, operator_id, now)
                )
                version_rows.append(
                    {
                        "resident_id": resident_id,
                        "version": 1,
                        "event_id": event_id,
                        "snapshot": record_to_snapshot(record),
                        "recorded_at": now,
                    }
                )
                if not node.connected or record.upstream_opt_out:
                    # As at the counter: a disconnected municipality sends nothing (its initial
                    # load follows on connecting); an opted-out resident is never reported.
                    continue
                notice = IdentityNotice(
                    municipality_code=municipality,
                    current=record.identity(),
                    reason=ChangeReason.EX_OFFICIO_ENTRY,
                    changed_on=today,
                    before=None,
                )
                outbox_rows.append(
                    {
                        "kind": MessageKind.IDENTITY_NOTICE.value,
                        "recipient": node.upstream,
                        "subject": record.resident_code,
                        "body": notice.as_body(),
                        "created_at": now,
                        "delivered_at": None,
                    }
                )
        bulk.insert_rows(session, _households, household_rows)
        bulk.insert_rows(session, _residents, resident_rows)
        bulk.insert_rows(session, _versions, version_rows)
        bulk.insert_rows(session, _outbox, outbox_rows)
        uow.commit()
    return people, last_code


def _resident_row(
    record: ResidentRecord, resident_id: int, household_id: int, operator_id: int, now: datetime
) -> dict[str, Any]:
    return {
        "id": resident_id,
        "resident_code": record.resident_code,
        "record_ref": new_record_ref(),
        "municipality_code": record.municipality_code,
        "household_id": household_id,
        "relationship": record.relationship.value,
        "family_name": record.name.family,
        "given_name": record.name.given,
        "family_name_kana": record.name.family_kana,
        "given_name_kana": record.name.given_kana,
        "family_name_mj": record.name.family_mj,
        "given_name_mj": record.name.given_mj,
        "name_key": name_key_of(record.name),
        "kana_key": kana_key_of(record.name),
        "birth_date": record.birth_date,
        "sex": record.sex.value,
        "address": record.address,
        "previous_address": record.previous_address,
        "domicile": record.domicile,
        "domicile_head": record.domicile_head,
        "became_resident_on": record.became_resident_on,
        "address_since": record.address_since,
        "insurance": insurance_to_dict(record.insurance),
        "status": record.status.value,
        "removal_reason": None,
        "removed_on": None,
        "destination": None,
        "upstream_opt_out": record.upstream_opt_out,
        "version": 1,
        "created_at": now,
        "updated_at": now,
        "updated_by": operator_id,
    }


def _batches(
    households: Iterable[SyntheticHousehold], size: int
) -> Iterator[list[SyntheticHousehold]]:
    """Whole households, about ``size`` residents a batch (a household is never split)."""
    batch: list[SyntheticHousehold] = []
    people = 0
    for household in households:
        batch.append(household)
        people += len(household.members)
        if people >= size:
            yield batch
            batch, people = [], 0
    if batch:
        yield batch


def load_population(
    node: ServiceContext,
    *,
    actor: Actor | None,
    households: Iterable[SyntheticHousehold],
    batch_size: int = 2000,
    progress: Progress | None = None,
    total: int | None = None,
    rng: random.Random | None = None,
) -> int:
    """Enter ``households`` on the register as ex-officio entries; returns the residents added.

    ``actor`` needs :attr:`Permission.EX_OFFICIO` (a supervisor); ``None`` means a command run on
    the server itself, which writes as the inactive ``system`` account. Codes come from the
    municipality's pool, which is topped up first when it is short. Each batch of about
    ``batch_size`` residents is validated with the counter's rules and then written in one
    transaction: a batch that fails leaves nothing of itself behind (earlier batches stay).

    ``progress(done, total)`` is called after each batch; ``total`` is the number of residents
    (counted from ``households`` when it is a sequence, else taken from ``total``, else the
    number done so far). ``rng`` orders the codes handed out; pass a seeded one for repeatable
    loads.
    """
    if actor is not None:
        actor.require(Permission.EX_OFFICIO)
        operator_id, terminal_id = actor.operator_id, actor.terminal_id
    else:
        operator_id, terminal_id = system_operator_id(node), None
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    generator = rng or random.Random(secrets.randbits(128))  # noqa: S311 - seeded from secrets
    if total is None and isinstance(households, Sequence):
        total = sum(len(h.members) for h in households)
    if total:
        _top_up_pool(node, total, generator)
    _analyze(node, _codes)
    done = 0
    after: str | None = None
    validator = _Validator(municipality_code=node.municipality_code, today=node.today())
    # Sequential on purpose: a worker thread preparing the next batch made loads slower, not
    # faster (the driver gives up the GIL on every row and then waits to get it back).
    for batch in _batches(households, batch_size):
        prepared = [validator.household(h) for h in batch]
        people = sum(len(p.records) for p in prepared)
        if total is None or done + people > total:
            _top_up_pool(node, people, generator)
        written, after = _write_batch(
            node,
            prepared,
            operator_id=operator_id,
            terminal_id=terminal_id,
            rng=generator,
            after=after,
        )
        done += written
        if progress is not None:
            progress(done, total if total is not None and total >= done else done)
    # The counter's queries after a load deserve plans made for the tables' real size.
    _analyze(node, _households, _residents, _versions, _outbox, _codes)
    return done
