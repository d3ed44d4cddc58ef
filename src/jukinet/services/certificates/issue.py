"""Issuing a certificate at the counter: the records read (and logged), the content fixed and
signed, the PDF drawn, and the issue recorded with the PDF's digest — all or nothing."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from jukinet.data.catalog import get_municipality
from jukinet.domain.access_log import AccessEntry, Action, ActorKind, Channel
from jukinet.domain.certificates import (
    CertificateKind,
    Issuer,
    OptionalItems,
    canonical_bytes,
    printed_content,
    serial_for,
)
from jukinet.domain.errors import Conflict, ValidationError
from jukinet.domain.operators import Actor, Permission
from jukinet.domain.register import ResidentRecord
from jukinet.services.audit import log_signer
from jukinet.services.certificates.render import check_printable, render_pdf
from jukinet.services.context import ServiceContext
from jukinet.storage import access_log
from jukinet.storage.certificate_tables import IssuedCertificateRow
from jukinet.storage.tables import ResidentRow
from jukinet.storage.unit_of_work import UnitOfWork

#: Items an access-log entry of a certificate names (what the copy shows).
_ITEMS = ("name", "birth_date", "sex", "address", "certificate")
_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class CertificateRequest:
    """What the resident asks for at the counter (one input model for page, API and CLI)."""

    resident_code: str
    kind: CertificateKind = CertificateKind.RESIDENT_COPY
    #: The whole household, not only this person (copies of the current record only).
    household: bool = False
    items: OptionalItems = field(default_factory=OptionalItems)


@dataclass(frozen=True, slots=True)
class IssuedCertificate:
    """A certificate handed over: its serial, the PDF, and what it prints."""

    serial: str
    pdf: bytes
    content: dict[str, Any]
    fee_yen: int


def _rows(uow: UnitOfWork, request: CertificateRequest) -> list[ResidentRow]:
    row = uow.residents.get_row(request.resident_code)
    if not request.household:
        return [row]
    if request.kind is not CertificateKind.RESIDENT_COPY:
        raise ValidationError(
            "JUKI-CERT-005",
            ja="世帯全員の証明は住民票の写しに限ります。",
            en="Only a copy of the current record may cover the whole household.",
            field="household",
        )
    members = uow.residents.household_members(row.household_id)
    return [m for m in members if m.status == "active"]


def _head_first(records: list[ResidentRecord]) -> list[ResidentRecord]:
    return sorted(records, key=lambda r: not r.is_head)


def next_serial(uow: UnitOfWork, municipality_code: str, year: int) -> str:
    """The next free serial of ``municipality_code`` in ``year`` (unique: a race retries)."""
    prefix = f"{municipality_code}-{year:04d}-"
    count = uow.session.scalar(
        select(func.count())
        .select_from(IssuedCertificateRow)
        .where(IssuedCertificateRow.serial.startswith(prefix))
    )
    return serial_for(municipality_code, year, int(count or 0) + 1)


def issuer_of_node(node: ServiceContext, serial: str) -> Issuer:
    """This municipality as the issuer of certificate ``serial`` today (its mayor, its fee)."""
    town = get_municipality(node.municipality_code)
    return Issuer(
        municipality_code=node.municipality_code,
        municipality_name=town.name,
        mayor=node.settings.mayor_name,
        serial=serial,
        issued_on=node.today(),
        fee_yen=node.settings.certificate_fee_yen,
    )


def issue_certificate(
    node: ServiceContext, *, actor: Actor, request: CertificateRequest
) -> IssuedCertificate:
    """Issue one certificate; refuses (and writes nothing) what the rules or the font refuse."""
    actor.require(Permission.ISSUE_CERTIFICATES)
    for attempt in range(_ATTEMPTS):
        try:
            return _issue_once(node, actor, request)
        except IntegrityError:
            # Two counters took the same serial at once: the later one takes the next.
            if attempt == _ATTEMPTS - 1:
                raise Conflict(
                    "JUKI-CERT-012",
                    ja="証明書番号の採番が競合しました。もう一度お試しください。",
                    en="Another counter took the same serial; please try again.",
                ) from None
    raise AssertionError("unreachable")


def _issue_once(
    node: ServiceContext, actor: Actor, request: CertificateRequest
) -> IssuedCertificate:
    signer_name, key = log_signer(node)
    with node.uow() as uow:
        rows = _rows(uow, request)
        records = _head_first([uow.residents.to_record(r) for r in rows])
        by_code = {r.resident_code: r for r in rows}
        now = node.now()
        serial = next_serial(uow, node.municipality_code, node.today().year)
        content = printed_content(
            request.kind, records, request.items, issuer_of_node(node, serial)
        )
        check_printable(content, node.settings.certificate_font)
        signature = key.sign(canonical_bytes(content))
        pdf = render_pdf(content, signature, font=node.settings.certificate_font)
        uow.session.add(
            IssuedCertificateRow(
                serial=serial,
                kind=request.kind.value,
                versions={
                    str(by_code[r.resident_code].id): by_code[r.resident_code].version
                    for r in records
                },
                content=content,
                signature=signature,
                pdf_digest=hashlib.sha256(pdf).hexdigest(),
                fee_yen=node.settings.certificate_fee_yen,
                issued_at=now,
                operator_id=actor.operator_id,
                terminal=actor.terminal_id,
            )
        )
        access_log.record(
            uow.session,
            [
                AccessEntry(
                    recorded_at=now,
                    node=signer_name,
                    action=Action.READ,
                    channel=Channel.COUNTER,
                    actor_kind=ActorKind.OPERATOR,
                    actor=actor.username,
                    subject=record.resident_code,
                    reason=f"certificate:{request.kind.value} {serial}",
                    items=_ITEMS,
                    terminal=actor.terminal_id,
                )
                for record in records
            ],
        )
        uow.flush()
        uow.commit()
    return IssuedCertificate(serial, pdf, content, node.settings.certificate_fee_yen)
