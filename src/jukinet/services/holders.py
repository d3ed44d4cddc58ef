"""Who may change a resident at a prefecture or the centre: the municipality holding them.

An upper tier keeps each resident's identity information for one municipality, the holder. The
sender's right to speak for a municipality is checked by the identity store; this module checks
that the municipality may change *this* resident. It closes the finding that a name-change
notice from one town overwrote, and moved, a resident held for another. What is allowed:

- anything from the holder itself, and any notice about a resident this node does not hold;
- a move-in (転入) carrying the move-in notice the new municipality signed for the holder: the
  one hand-over the procedure makes, bound to the signer (never to what a relay claims);
- a new record (birth, move-in, entry) for a resident whose record here is a 除票, which no
  municipality holds any more;
- a deletion from a municipality that held the resident before the hand-over (its move-out
  arriving after the move-in): kept as history, changing nothing current.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy.orm import Session

from jukinet.domain.errors import ValidationError
from jukinet.domain.identity import ChangeReason, IdentityNotice
from jukinet.domain.messages import MessageKind
from jukinet.domain.network import NodeId, NodeRole, municipality
from jukinet.network.context import NetworkContext, Rejected
from jukinet.network.origin import verify_sealed
from jukinet.storage import identity_records

HELD_ELSEWHERE: Final = (
    "the resident is held for another municipality; only a move-in notice signed by the "
    "new municipality hands them over"
)
NEVER_HELD: Final = "the resident is not held for this municipality"


def check_notice(
    session: Session, notice: IdentityNotice, *, net: NetworkContext | None, now: datetime
) -> str | None:
    """Why ``notice`` may not change what this node holds, or ``None`` when it may."""
    handover_from, problem = _handover(notice, net=net, now=now)
    if problem is not None:
        return problem
    before = notice.before
    if (
        notice.reason is ChangeReason.CODE_CHANGE
        and before is not None
        and before.resident_code != notice.current.resident_code
    ):
        retired = identity_records.find_uncached(session, before.resident_code)
        if retired is not None and retired.municipality_code != notice.municipality_code:
            return NEVER_HELD
    return _check_holder(
        session,
        notice.current.resident_code,
        municipality_code=notice.municipality_code,
        deleted=notice.deleted,
        creates=notice.reason.creates_record,
        handover_from=handover_from,
    )


def check_snapshot(
    session: Session, resident_code: str, *, municipality_code: str, deleted: bool
) -> str | None:
    """Why a snapshot (initial load, reconciliation) may not be applied, or ``None``."""
    return _check_holder(
        session,
        resident_code,
        municipality_code=municipality_code,
        deleted=deleted,
        creates=True,
        handover_from=None,
    )


def _check_holder(
    session: Session,
    resident_code: str,
    *,
    municipality_code: str,
    deleted: bool,
    creates: bool,
    handover_from: str | None,
) -> str | None:
    row = identity_records.find(session, resident_code)
    if row is None or row.municipality_code == municipality_code:
        return None
    if deleted:
        held = identity_records.held_before(session, resident_code, municipality_code)
        return None if held else NEVER_HELD
    if row.deleted and creates:
        return None
    if handover_from is not None and handover_from == row.municipality_code:
        return None
    return HELD_ELSEWHERE


def _handover(
    notice: IdentityNotice, *, net: NetworkContext | None, now: datetime
) -> tuple[str | None, str | None]:
    """(the municipality the resident is handed over from, problem) for a notice's hand-over.

    Every hand-over is verified at every tier, whether or not it is needed here, so a relay
    never forwards one that is not the new municipality's own.
    """
    if notice.handover is None:
        return None, None
    if net is None:
        return None, "a hand-over cannot be verified by a node that is not on the network"
    try:
        origin, statement = verify_sealed(notice.handover, net=net, now=now)
    except Rejected as rejection:
        return None, f"hand-over refused: {rejection.reason}"
    payload = statement.get("payload")
    current = notice.current
    if not (
        origin == municipality(notice.municipality_code)
        and notice.reason is ChangeReason.MOVE_IN
        and statement.get("kind") == MessageKind.MOVE_IN_NOTICE.value
        and isinstance(payload, dict)
        and payload.get("resident_code") == current.resident_code
        and payload.get("birth_date") == current.birth_date.isoformat()
        and payload.get("new_municipality_code") == notice.municipality_code
    ):
        return (
            None,
            "hand-over refused: not the new municipality's move-in notice for this resident",
        )
    try:
        previous = NodeId.parse(str(statement.get("destination")))
    except ValidationError:
        previous = None
    if previous is None or previous.role is not NodeRole.MUNICIPALITY:
        return None, "hand-over refused: it names no previous municipality"
    return previous.code, None
