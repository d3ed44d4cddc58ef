"""What prefectures and the national centre keep: identity-confirmation information with history.

Upstream nodes validate every notice before it touches their store. A malformed notice is
quarantined with its reason (the March 2013 incident: a bug sent malformed data and the centre
had to stop 200 municipalities); the inbox holds later notices for the *same* resident behind
it, and everybody else's keep flowing.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from jukinet.domain.clock import japan_date
from jukinet.domain.codes import validate_resident_code
from jukinet.domain.errors import DomainError, ValidationError
from jukinet.domain.identity import (
    ChangeReason,
    IdentityInfo,
    IdentityNotice,
    parse_notice_body,
    parse_snapshot_body,
)
from jukinet.domain.messages import MessageKind
from jukinet.domain.municipality import validate_municipality_code
from jukinet.domain.network import NodeId, NodeRole, municipality, parent_of, prefecture
from jukinet.network.context import NetworkContext
from jukinet.network.handlers import APPLIED, QUARANTINED, REFUSED, Delivery, Handler, Outcome
from jukinet.network.node import NetworkNode
from jukinet.network.origin import ORIGIN_REFUSED
from jukinet.services import holders
from jukinet.services.jpki import revocation as jpki_revocation
from jukinet.services.receipts import log_receipt
from jukinet.storage import identity_records
from jukinet.storage.identity_records import SNAPSHOT_REASON
from jukinet.storage.security_alerts import ORIGIN_SIGNATURE, raise_alert


def _expected_sender(here: NodeId, municipality_code: str) -> str:
    if here.role is NodeRole.PREFECTURE:
        return str(municipality(municipality_code))
    return str(prefecture(municipality_code[:2]))


def _check_origin(
    here: NodeId, sender: str, municipality_code: str, origin: NodeId | None
) -> str | None:
    if here.role is NodeRole.PREFECTURE and municipality_code[:2] != here.code:
        return "the municipality does not belong to this prefecture"
    if sender != _expected_sender(here, municipality_code):
        return "the sender may not report for this municipality"
    if origin != municipality(municipality_code):
        # The seal is genuine but another municipality's: a relay passed it off as this one's.
        return f"{ORIGIN_REFUSED}: signed by {origin}, not by the municipality it names"
    return None


def identity_handlers(node: NetworkNode) -> dict[MessageKind, Handler]:
    """The handlers of identity messages for an upper-tier node (prefecture or centre)."""

    def handle(delivery: Delivery) -> Outcome:
        now = node.now()
        outcome = receive_identity_message(
            delivery.session,
            here=node.node_id,
            sender=delivery.envelope.sender,
            origin=delivery.origin,
            kind=delivery.kind,
            body=delivery.body,
            envelope_id=delivery.envelope.id,
            now=now,
            today=japan_date(now),
            net=node.network,
        )
        if outcome.status == APPLIED:
            log_receipt(
                delivery.session,
                here=str(node.node_id),
                sender=delivery.envelope.sender,
                kind=delivery.kind,
                body=delivery.body,
                now=now,
            )
        if outcome.status == REFUSED and (outcome.reason or "").startswith(ORIGIN_REFUSED):
            raise_alert(
                delivery.session,
                kind=ORIGIN_SIGNATURE,
                about=delivery.envelope.sender,
                reason=f"{delivery.kind.value} {delivery.envelope.id}: {outcome.reason}",
                now=now,
            )
        return outcome

    return {
        MessageKind.IDENTITY_NOTICE: handle,
        MessageKind.IDENTITY_SNAPSHOT: handle,
        MessageKind.IDENTITY_WITHDRAWAL: handle,
    }


def receive_identity_message(
    session: Session,
    *,
    here: NodeId,
    sender: str,
    origin: NodeId | None,
    kind: str,
    body: dict[str, Any],
    envelope_id: str,
    now: datetime,
    today: date,
    net: NetworkContext | None,
) -> Outcome:
    """Validate and apply one identity message; its outcome says whether to forward it.

    ``origin`` is the municipality whose seal the inbox verified (``None``: none). Besides the
    sender's right to speak for the municipality, the municipality itself must have signed the
    message, and it may only change a resident it holds here (:mod:`jukinet.services.holders`).
    """
    try:
        if kind == MessageKind.IDENTITY_NOTICE:
            notice = parse_notice_body(body, today=today)
            problem = _check_origin(here, sender, notice.municipality_code, origin)
            problem = problem or holders.check_notice(session, notice, net=net, now=now)
            if problem:
                return Outcome(REFUSED, problem)
            apply_notice(session, notice, envelope_id=envelope_id, now=now)
        elif kind == MessageKind.IDENTITY_SNAPSHOT:
            info, municipality_code, deleted = parse_snapshot_body(body, today=today)
            problem = _check_origin(here, sender, municipality_code, origin)
            problem = problem or holders.check_snapshot(
                session, info.resident_code, municipality_code=municipality_code, deleted=deleted
            )
            if problem:
                return Outcome(REFUSED, problem)
            apply_snapshot(
                session,
                info,
                municipality_code=municipality_code,
                deleted=deleted,
                envelope_id=envelope_id,
                now=now,
            )
        elif kind == MessageKind.IDENTITY_WITHDRAWAL:
            code, municipality_code = _parse_withdrawal(body)
            problem = _check_origin(here, sender, municipality_code, origin)
            if problem:
                return Outcome(REFUSED, problem)
            jpki_revocation.on_withdrawal(
                session, code, municipality_code=municipality_code, now=now
            )
            identity_records.remove(session, code, municipality_code=municipality_code)
        else:
            return Outcome(QUARANTINED, f"unknown kind {kind!r}")
    except DomainError as error:
        return Outcome(QUARANTINED, f"{error.code}: {error.message_en}")
    return Outcome(APPLIED, forward=parent_of(here) is not None)


def _parse_withdrawal(body: dict[str, Any]) -> tuple[str, str]:
    if set(body) != {"resident_code", "municipality_code"}:
        raise ValidationError(
            "JUKI-NET-011", ja="撤回通知の形式が不正です。", en="malformed withdrawal", field="body"
        )
    return (
        validate_resident_code(str(body["resident_code"])),
        validate_municipality_code(str(body["municipality_code"])),
    )


def apply_notice(
    session: Session, notice: IdentityNotice, *, envelope_id: str, now: datetime
) -> None:
    """Apply a validated notice to the store, keeping the version before it in history."""
    body = notice.as_body()
    # Signature certificates whose subject this notice makes untrue are revoked in this commit.
    jpki_revocation.on_notice(session, notice, now=now)
    if notice.reason is ChangeReason.CODE_CHANGE and notice.before is not None:
        identity_records.retire_code(
            session,
            notice.before,
            reason=notice.reason.value,
            changed_on=notice.changed_on,
            now=now,
        )
    identity_records.write(
        session,
        notice.current,
        municipality_code=notice.municipality_code,
        deleted=notice.deleted,
        reason=notice.reason.value,
        changed_on=notice.changed_on,
        before=body["change"]["before"],
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
    jpki_revocation.on_identity(
        session, info, municipality_code=municipality_code, deleted=deleted, now=now
    )
    identity_records.write(
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
