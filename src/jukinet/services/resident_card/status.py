"""A card's status on the network: notices upward, and checks by serial from any node.

A municipality reports each change of what the network sees of a card (valid, suspended,
invalid) to its prefecture, which keeps it and passes it on to the centre. A notice may only
speak for the municipality that signed it, about a card that municipality issued (or holds).

Any municipality checks a card it did not issue by asking its prefecture, which answers from its
own table when the card is one of its municipalities' and otherwise passes on the centre's
signed answer. Every check is recorded at each node that answers and at the one that asked.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from jukinet.domain.errors import Conflict, DomainError, ValidationError
from jukinet.domain.messages import MessageKind
from jukinet.domain.municipality import validate_municipality_code
from jukinet.domain.network import NATIONAL, NodeId, NodeRole, municipality, prefecture
from jukinet.domain.reconcile import NONCE_RE, ReconcileFailed, unreachable, untrusted
from jukinet.domain.resident_card import (
    InvalidReason,
    NetworkStatus,
    issuer_of,
    validate_serial,
)
from jukinet.network.context import NetworkContext, Rejected
from jukinet.network.handlers import APPLIED, QUARANTINED, REFUSED, Delivery, Handler, Outcome
from jukinet.network.inbox import record_rejection, sign_document, verify_document
from jukinet.network.node import NetworkNode
from jukinet.network.origin import ORIGIN_REFUSED
from jukinet.network.reconcile_client import ask_national, open_client, post_question
from jukinet.services.context import ServiceContext
from jukinet.services.jpki import revocation as jpki_revocation
from jukinet.services.resident_card import records
from jukinet.storage.card_tables import CardStatusCheckRow, CardStatusRow, ResidentCardRow
from jukinet.storage.security_alerts import ORIGIN_SIGNATURE, raise_alert

STATUS_PATH: Final = "/network/v1/cards/status"
STATUS_KIND: Final = "card_status"
_BODY_KEYS = {"serial", "municipality_code", "status", "reason", "expires_on", "changed_at"}
_OPTIONAL_KEYS = {"auth_public_key", "continued_from", "handed_to"}


# --- notices upward -------------------------------------------------------------------------


def card_status_handlers(node: NetworkNode) -> dict[MessageKind, Handler]:
    """The handler of card status notices at a prefecture or the centre (handler table)."""

    def handle(delivery: Delivery) -> Outcome:
        return receive_card_status(
            delivery.session,
            here=node.node_id,
            sender=delivery.envelope.sender,
            body=delivery.body,
            now=node.now(),
            forward=node.parent is not None,
            origin=delivery.origin,
        )

    return {MessageKind.CARD_STATUS_NOTICE: handle}


@dataclass(frozen=True, slots=True)
class _Notice:
    serial: str
    municipality_code: str
    status: NetworkStatus
    reason: str | None
    expires_on: date | None
    changed_at: datetime
    auth_public_key: bytes | None
    #: The municipality that held the card before a card move (転入転出の特例).
    continued_from: str | None = None
    #: The municipality the holder moved to with the card (sent by the old municipality).
    handed_to: str | None = None


def _parse_notice(body: dict[str, Any]) -> _Notice:
    if not _BODY_KEYS <= set(body) <= _BODY_KEYS | _OPTIONAL_KEYS:
        raise ValidationError(
            "JUKI-CARD-040",
            ja="カード状態通知の形式が不正です。",
            en="malformed card status notice",
        )
    reason = body["reason"]
    if reason is not None:
        reason = InvalidReason(str(reason)).value
    key = body.get("auth_public_key")
    return _Notice(
        serial=validate_serial(str(body["serial"])),
        municipality_code=validate_municipality_code(str(body["municipality_code"])),
        status=NetworkStatus(str(body["status"])),
        reason=reason,
        expires_on=date.fromisoformat(body["expires_on"]) if body["expires_on"] else None,
        changed_at=datetime.fromisoformat(str(body["changed_at"])),
        auth_public_key=base64.b64decode(key, validate=True) if key else None,
        continued_from=(
            validate_municipality_code(str(body["continued_from"]))
            if body.get("continued_from")
            else None
        ),
        handed_to=(
            validate_municipality_code(str(body["handed_to"])) if body.get("handed_to") else None
        ),
    )


def receive_card_status(
    session: Session,
    *,
    here: NodeId,
    sender: str,
    body: dict[str, Any],
    now: datetime,
    forward: bool,
    origin: NodeId | None,
) -> Outcome:
    """Validate and keep one card status notice; its outcome says whether to pass it on.

    ``origin`` is the municipality whose seal the inbox verified: it must be the municipality
    the notice speaks for (a genuine seal of another town passed off as this one's is refused
    and raised as an alert about the node that handed it over).
    """
    try:
        notice = _parse_notice(body)
    except (DomainError, ValueError, TypeError, KeyError):
        return Outcome(QUARANTINED, "malformed card status notice")
    code = notice.municipality_code
    if here.role is NodeRole.PREFECTURE:
        if code[:2] != here.code or sender != str(municipality(code)):
            return Outcome(REFUSED, "the sender may not report cards for this municipality")
    elif sender != str(prefecture(code[:2])):
        return Outcome(REFUSED, "the sender may not report cards for this municipality")
    if origin != municipality(code):
        reason = f"{ORIGIN_REFUSED}: signed by {origin}, not by the municipality it names"
        raise_alert(
            session,
            kind=ORIGIN_SIGNATURE,
            about=sender,
            reason=f"{MessageKind.CARD_STATUS_NOTICE.value} from {sender}: {reason}",
            now=now,
        )
        return Outcome(REFUSED, reason)
    row = session.get(CardStatusRow, notice.serial)
    holder = row.municipality_code if row is not None else None
    if notice.handed_to is not None and holder == notice.handed_to:
        return Outcome(APPLIED, "already held by the new municipality", forward=forward)
    # A card continued after a card move is reported by its new holder, naming the one it
    # took it over from: a tier that knew the card knew it held by that one.
    continued = notice.continued_from is not None and holder in (None, notice.continued_from)
    allowed = holder == code if holder is not None else issuer_of(notice.serial) == code
    if not (allowed or continued):
        return Outcome(REFUSED, "a municipality may report only the cards it issued or holds")
    if notice.handed_to is not None:
        return _hand_over(session, row, here, notice.handed_to, forward=forward)
    # Notices from one municipality arrive in order, exactly once: an equal time is a later
    # change made within the same clock tick, so only a strictly older notice is stale.
    if row is not None and aware(row.changed_at) > notice.changed_at:
        return Outcome(APPLIED, "older than what is held", forward=forward)
    if row is None:
        row = CardStatusRow(serial=notice.serial)
        session.add(row)
    row.municipality_code = code
    row.status = notice.status.value
    row.reason = notice.reason
    row.expires_on = notice.expires_on
    if notice.auth_public_key is not None:
        row.auth_public_key = notice.auth_public_key
    row.changed_at = notice.changed_at
    row.received_at = now
    if here.role is NodeRole.PREFECTURE:
        # The prefecture is the signature certificates' CA: a lost or ended card revokes them
        # in the same commit, so OCSP says "revoked" as soon as the status arrives.
        jpki_revocation.on_card_status(session, notice.serial, notice.status.value, now=now)
    return Outcome(APPLIED, forward=forward)


def _hand_over(
    session: Session, row: CardStatusRow | None, here: NodeId, to: str, *, forward: bool
) -> Outcome:
    """The old municipality hands a card over after a card move (転入転出の特例).

    Only the holder changes (the new holder reports the status from now on, and its notice
    may be older than this one). A prefecture keeps only its own municipalities' cards: it
    forgets a card handed to another prefecture's town, whose checks then go to the centre.
    """
    if row is not None:
        if here.role is NodeRole.PREFECTURE and to[:2] != here.code:
            session.delete(row)
        else:
            row.municipality_code = to
    return Outcome(APPLIED, forward=forward)


def aware(moment: datetime) -> datetime:
    """A stored time as an aware one."""
    # SQLite gives back naive datetimes for timezone-aware columns: they were stored in UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# --- checks by serial -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CardStatusAnswer:
    """What the network says of a card: its status, by whom, and its authentication key."""

    serial: str
    #: ``None`` when no node knows the card.
    status: NetworkStatus | None
    reason: str | None
    expires_on: date | None
    municipality_code: str | None
    auth_public_key: bytes | None
    answered_by: str

    def effective(self, today: date) -> NetworkStatus | None:
        """The status on ``today`` (a valid card past its expiry is invalid)."""
        if self.status is NetworkStatus.VALID and self.expires_on and today > self.expires_on:
            return NetworkStatus.INVALID
        return self.status


def _record_check(
    session: Session, serial: str, *, asked_by: str, at: datetime, answer: str
) -> None:
    session.add(
        CardStatusCheckRow(serial=serial, asked_by=asked_by[:80], at=at, answer=answer[:80])
    )


def _held_answer(session: Session, serial: str) -> dict[str, Any]:
    row = session.get(CardStatusRow, serial)
    if row is None:
        return {"found": False}
    return {
        "found": True,
        "status": row.status,
        "reason": row.reason,
        "expires_on": row.expires_on.isoformat() if row.expires_on else None,
        "municipality_code": row.municipality_code,
        "auth_public_key": (
            base64.b64encode(row.auth_public_key).decode("ascii") if row.auth_public_key else None
        ),
    }


def _authorise(net: NetworkContext, caller_name: str) -> NodeId:
    try:
        caller = NodeId.parse(caller_name)
    except ValidationError as error:
        raise Rejected("unknown caller") from error
    here = net.node
    if here.role is NodeRole.PREFECTURE:
        if caller.role is not NodeRole.MUNICIPALITY or caller.code[:2] != here.code:
            raise Rejected("only this prefecture's municipalities may check cards here")
    elif here.role is NodeRole.NATIONAL:
        if caller.role is not NodeRole.PREFECTURE:
            raise Rejected("only prefectures may check cards with the national centre")
    else:
        raise Rejected("this node keeps no card statuses", status=404)
    return caller


def answer_card_status(
    node: ServiceContext, net: NetworkContext, *, tls_peer_der: bytes | None, payload: Any
) -> dict[str, Any]:
    """Answer ``POST /network/v1/cards/status``: a signed status of one card by serial.

    A prefecture that does not hold the card passes on the centre's signed answer as
    ``national``. Raises :class:`Rejected` (recorded) for a caller or question refused.
    """
    tls_peer: str | None = None
    try:
        tls_peer = net.peer_of_tls_certificate(tls_peer_der, now=node.now())
        caller = _authorise(net, tls_peer)
        if not isinstance(payload, dict):
            raise Rejected("expected a JSON object", status=400)
        serial = str(payload.get("serial", ""))
        try:
            validate_serial(serial)
        except ValidationError as error:
            raise Rejected("serial: not a card serial", status=400) from error
        nonce = payload.get("nonce", "")
        if not isinstance(nonce, str) or not NONCE_RE.match(nonce):
            raise Rejected("nonce: up to 64 letters, digits, '-' or '_'", status=400)
    except Rejected as rejection:
        record_rejection(
            node,
            reason=f"card status: {rejection.reason}",
            claimed_sender=tls_peer,
            tls_peer=tls_peer,
            envelope_id=None,
        )
        raise
    now = node.now()
    with node.session_factory() as session, session.begin():
        held = _held_answer(session, serial)
        _record_check(
            session,
            serial,
            asked_by=str(caller),
            at=now,
            answer=str(held.get("status", "unknown")),
        )
    document: dict[str, Any] = {
        "kind": STATUS_KIND,
        "node": str(net.node),
        "requested_by": str(caller),
        "serial": serial,
        "nonce": nonce,
        "answered_at": now.isoformat(),
    } | held
    if net.node.role is NodeRole.PREFECTURE and not held["found"]:
        signed, national_error = ask_national(
            node, net, STATUS_PATH, {"serial": serial, "nonce": nonce}
        )
        document["national"] = signed
        document["national_error"] = national_error
    return sign_document(document, net)


def _unreachable_answer(serial: str, why: str) -> DomainError:
    return Conflict(
        "JUKI-CARD-041",
        ja="カードの状態をネットワークで確認できません。しばらくしてからやり直してください。",
        en=f"The card's status cannot be checked on the network now ({why}).",
        field="serial",
    )


def _answer_of(document: dict[str, Any], serial: str, answered_by: str) -> CardStatusAnswer:
    if not document.get("found"):
        return CardStatusAnswer(serial, None, None, None, None, None, answered_by)
    key = document.get("auth_public_key")
    expires = document.get("expires_on")
    return CardStatusAnswer(
        serial=serial,
        status=NetworkStatus(str(document["status"])),
        reason=document.get("reason"),
        expires_on=date.fromisoformat(expires) if expires else None,
        municipality_code=validate_municipality_code(str(document["municipality_code"])),
        auth_public_key=base64.b64decode(key, validate=True) if key else None,
        answered_by=answered_by,
    )


def check_card_status(
    node: ServiceContext, *, serial: str, asked_by: str, http: Any = None
) -> CardStatusAnswer:
    """The status of a card by serial, as this municipality learns it (recorded here).

    A card this municipality issued is answered from its own register; any other is asked of
    the network. Raises :class:`Conflict` (JUKI-CARD-041) when the network cannot answer.
    """
    validate_serial(serial)
    now = node.now()
    today = node.today()
    with node.session_factory() as session, session.begin():
        own = session.scalars(
            select(ResidentCardRow).where(ResidentCardRow.serial == serial)
        ).one_or_none()
        if own is not None and records.moved_away(own):
            own = None  # the card moved with its holder: the network knows who holds it now
        elif own is not None or issuer_of(serial) == node.municipality_code:
            answer = _own_answer(node, own, serial, today=today)
            _record_check(session, serial, asked_by=asked_by, at=now, answer=_label(answer))
            return answer
    try:
        answer = _ask_network(node, serial, http=http)
    except ReconcileFailed as error:
        with node.session_factory() as session, session.begin():
            _record_check(session, serial, asked_by=asked_by, at=now, answer="unanswered")
        raise _unreachable_answer(serial, error.message_en[:120]) from error
    with node.session_factory() as session, session.begin():
        _record_check(session, serial, asked_by=asked_by, at=now, answer=_label(answer))
    return answer


def _label(answer: CardStatusAnswer) -> str:
    return answer.status.value if answer.status else "unknown"


def _own_answer(
    node: ServiceContext, row: ResidentCardRow | None, serial: str, *, today: date
) -> CardStatusAnswer:
    here = str(node.node_id)
    if row is None:
        return CardStatusAnswer(serial, None, None, None, None, None, here)
    card = records.to_card(row)
    status = card.network_status(today)
    return CardStatusAnswer(
        serial=serial,
        status=status,
        reason=card.invalid_reason.value if card.invalid_reason else None,
        expires_on=card.expires_on,
        municipality_code=node.municipality_code,
        auth_public_key=row.auth_public_key,
        answered_by=here,
    )


def _ask_network(node: ServiceContext, serial: str, *, http: Any) -> CardStatusAnswer:

    net = node.network
    if net is None or not node.connected:
        raise unreachable(node.upstream if node.connected else "network", "not connected")
    prefecture_name = node.upstream
    url = net.peers.get(prefecture_name)
    if url is None:
        raise unreachable(prefecture_name, "the prefecture is not a neighbour of this node")
    nonce = secrets.token_hex(16)
    with open_client(net, http, peer=prefecture_name) as client:
        signed = post_question(
            client,
            url.rstrip("/") + STATUS_PATH,
            {"serial": serial, "nonce": nonce},
            peer=prefecture_name,
        )
    document = _verified(
        node,
        net,
        signed,
        signer=prefecture_name,
        asked_by=str(net.node),
        serial=serial,
        nonce=nonce,
    )
    if document.get("found"):
        return _answer_of(document, serial, prefecture_name)
    national = document.get("national")
    if national is None:
        raise untrusted(str(document.get("national_error") or "no answer from the centre"))
    document = _verified(
        node,
        net,
        national,
        signer=str(NATIONAL),
        asked_by=prefecture_name,
        serial=serial,
        nonce=nonce,
    )
    return _answer_of(document, serial, str(NATIONAL))


def _verified(
    node: ServiceContext,
    net: NetworkContext,
    signed: Any,
    *,
    signer: str,
    asked_by: str,
    serial: str,
    nonce: str,
) -> dict[str, Any]:

    if not isinstance(signed, dict):
        raise untrusted(f"no signed answer from {signer}")
    try:
        document = verify_document(signed, signer=signer, net=net, node=node)
    except Rejected as error:
        raise untrusted(error.reason) from error
    expected = {
        "kind": STATUS_KIND,
        "node": signer,
        "requested_by": asked_by,
        "serial": serial,
        "nonce": nonce,
    }
    if any(document.get(k) != v for k, v in expected.items()):
        raise untrusted(f"the answer of {signer} is not for this question")
    try:
        _answer_of(document, serial, signer)
    except (ValueError, TypeError, KeyError, DomainError) as error:
        raise untrusted(f"malformed card status from {signer}") from error
    return document
