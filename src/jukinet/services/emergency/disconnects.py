"""Emergency disconnects (緊急切断): two operators' cards to cut, renew or end.

One operator proposes (:func:`propose`) with their own card, a second countersigns
(:func:`countersign`) with theirs: a security officer and a supervisor (the chief officer's
delegate), each signed in with a card lent to them, presented within the last ten minutes. The
cut starts at the countersignature and expires by itself at ``countersigned + duration`` by this
node's clock unless renewed the same way. Activation, renewal and end are written to the access
log (operator events) and to ``emergency_events``, which the public transparency page shows.

At the national centre a cut of a node is also a **quarantine** ordered to every node, and a cut
of an agency suspends it network-wide (:mod:`.messages`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from jukinet.data.affairs import get_affair
from jukinet.domain.clock import aware_utc
from jukinet.domain.emergency import (
    Action,
    CheckedProposal,
    DisconnectProposal,
    Scope,
    check_card_holder,
    check_countersigner,
    check_proposal,
    proposal_lapsed,
)
from jukinet.domain.errors import Conflict, NotFound
from jukinet.domain.network import NodeId, NodeRole
from jukinet.domain.operator_events import OperatorEvent
from jukinet.domain.operators import Actor, Role
from jukinet.network.context import Rejected
from jukinet.services.context import ServiceContext
from jukinet.services.emergency.messages import queue_order, record_event
from jukinet.services.operator_security.events import log_event
from jukinet.storage.emergency_tables import (
    EmergencyDisconnectRow,
    EmergencyEventRow,
    EmergencyProposalRow,
)
from jukinet.storage.tables import OperatorCardRow, OperatorSessionRow, RecipientRow

OPEN, COUNTERSIGNED, LAPSED = "open", "countersigned", "lapsed"


@dataclass(frozen=True, slots=True)
class ProposalView:
    """A proposal waiting for (or given) its second card."""

    id: int
    action: str
    scope: str
    target: str
    reason: str
    duration_seconds: int
    disconnect_id: int | None
    proposed_by: str
    proposed_role: str
    proposed_at: datetime
    status: str


@dataclass(frozen=True, slots=True)
class DisconnectView:
    """A cut, with its countdown."""

    id: int
    scope: str
    target: str
    reason: str
    source: str
    activated_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    end_reason: str
    decided_by: str
    in_force: bool
    seconds_left: int


@dataclass(frozen=True, slots=True)
class EventView:
    """One activation, renewal or end (public)."""

    disconnect_id: int
    action: str
    occurred_at: datetime
    scope: str
    target: str
    expires_at: datetime | None
    decided_by: str
    reason: str


def _proposal_view(row: EmergencyProposalRow) -> ProposalView:
    return ProposalView(
        id=row.id,
        action=row.action,
        scope=row.scope,
        target=row.target,
        reason=row.reason,
        duration_seconds=row.duration_seconds,
        disconnect_id=row.disconnect_id,
        proposed_by=row.proposed_by,
        proposed_role=row.proposed_role,
        proposed_at=aware_utc(row.proposed_at),
        status=row.status,
    )


def _disconnect_view(row: EmergencyDisconnectRow, now: datetime) -> DisconnectView:
    expires = aware_utc(row.expires_at)
    live = row.ended_at is None and now < expires
    return DisconnectView(
        id=row.id,
        scope=row.scope,
        target=row.target,
        reason=row.reason,
        source=row.source,
        activated_at=aware_utc(row.activated_at),
        expires_at=expires,
        ended_at=aware_utc(row.ended_at) if row.ended_at else None,
        end_reason=row.end_reason,
        decided_by=row.decided_by,
        in_force=live,
        seconds_left=max(0, int((expires - now).total_seconds())) if live else 0,
    )


def _card_presented(session: Session, actor: Actor) -> datetime | None:
    """When ``actor`` last presented their card here (``None``: no card lent to them)."""
    if actor.card_serial is None:
        return None
    card = session.scalars(
        select(OperatorCardRow).where(OperatorCardRow.serial == actor.card_serial)
    ).first()
    if card is None or card.status != "lent" or card.operator_id != actor.operator_id:
        return None
    query = select(OperatorSessionRow.started_at).where(
        OperatorSessionRow.operator_id == actor.operator_id,
        OperatorSessionRow.card_id == card.id,
        OperatorSessionRow.ended_at.is_(None),
    )
    if actor.session_id is not None:
        query = query.where(OperatorSessionRow.id == actor.session_id)
    started = session.scalar(query.order_by(OperatorSessionRow.started_at.desc()).limit(1))
    return aware_utc(started) if started is not None else None


def _no_such(what: str, target: str) -> NotFound:
    return NotFound(
        "JUKI-EMG-015",
        ja=f"切断の対象（{what}）が見つかりません: {target}",
        en=f"There is no such {what} to cut: {target}",
        field="target",
    )


def _check_target(node: ServiceContext, session: Session, checked: CheckedProposal) -> str:
    """The target in its canonical form; a clear refusal when it does not exist."""
    scope, target = checked.scope, checked.target
    if scope in (Scope.LINK, Scope.NODE):
        try:
            parsed = str(NodeId.parse(target))
        except ValueError:
            raise _no_such("node", target) from None
        if scope is Scope.LINK and (node.network is None or parsed not in node.network.peers):
            raise _no_such("link (a neighbour of this node)", target)
        if scope is Scope.NODE and parsed != str(node.node_id):
            if node.network is None:
                raise _no_such("node", target)
            try:
                node.network.peer_key(parsed, now=node.now())
            except Rejected:
                raise _no_such("node", target) from None
        return parsed
    if scope is Scope.AGENCY:
        if session.get(RecipientRow, target) is None:
            raise _no_such("agency", target)
        return target
    if scope is Scope.AFFAIR:
        return get_affair(target).code
    return ""


def propose(node: ServiceContext, *, actor: Actor, proposal: DisconnectProposal) -> ProposalView:
    """The first card: propose a cut, its renewal or its end (nothing is cut yet)."""
    checked = check_proposal(proposal)
    now = node.now()
    with node.uow() as uow:
        check_card_holder(actor, session_started=_card_presented(uow.session, actor), now=now)
        target, scope = checked.target, checked.scope.value if checked.scope else ""
        if checked.action is Action.ACTIVATE:
            target = _check_target(node, uow.session, checked)
        else:
            cut = _live_cut(uow.session, checked.disconnect_id, now)
            scope, target = cut.scope, cut.target
        assert actor.card_serial is not None
        row = EmergencyProposalRow(
            action=checked.action.value,
            disconnect_id=checked.disconnect_id,
            scope=scope,
            target=target,
            reason=checked.reason,
            duration_seconds=int(checked.duration.total_seconds()),
            proposed_by=actor.username,
            proposed_role=actor.role.value,
            proposed_card=actor.card_serial,
            proposed_at=now,
            status=OPEN,
        )
        uow.session.add(row)
        uow.session.flush()
        log_event(
            node,
            uow.session,
            OperatorEvent.EMERGENCY_PROPOSED,
            actor=actor.username,
            text=f"#{row.id} {row.action} {row.scope} {row.target}".strip(),
            terminal=actor.terminal_id,
        )
        uow.commit()
        return _proposal_view(row)


def _live_cut(session: Session, disconnect_id: int | None, now: datetime) -> EmergencyDisconnectRow:
    row = session.get(EmergencyDisconnectRow, disconnect_id) if disconnect_id else None
    if row is None or row.source != "local":
        raise NotFound(
            "JUKI-EMG-016",
            ja="その番号の切断はありません。",
            en=f"There is no disconnect #{disconnect_id} decided here.",
            field="disconnect_id",
        )
    if row.ended_at is not None or aware_utc(row.expires_at) <= now:
        raise Conflict(
            "JUKI-EMG-017",
            ja="その切断は既に終了しているか、期限が切れています。",
            en=f"Disconnect #{disconnect_id} has already ended or expired.",
            field="disconnect_id",
        )
    return row


def countersign(node: ServiceContext, *, actor: Actor, proposal_id: int) -> DisconnectView:
    """The second card: the proposal takes effect now (cut, renewed or ended)."""
    now = node.now()
    with node.uow() as uow:
        session = uow.session
        # An id beyond a 64-bit key names no proposal (the driver would overflow on it).
        in_range = 0 < proposal_id < 2**63
        proposal = session.get(EmergencyProposalRow, proposal_id) if in_range else None
        if proposal is None or proposal.status != OPEN:
            raise NotFound(
                "JUKI-EMG-018",
                ja="副署を待っている提案が見つかりません。",
                en=f"No proposal #{proposal_id} is waiting for a countersignature.",
                field="proposal_id",
            )
        if proposal_lapsed(aware_utc(proposal.proposed_at), now):
            raise Conflict(
                "JUKI-EMG-019",
                ja="提案から30分を過ぎたため失効しました。最初から提案し直してください。",
                en="The proposal is more than 30 minutes old and has lapsed: propose again.",
                field="proposal_id",
            )
        check_card_holder(actor, session_started=_card_presented(session, actor), now=now)
        check_countersigner(proposal.proposed_by, Role(proposal.proposed_role), actor)
        assert actor.card_serial is not None
        proposal.status = COUNTERSIGNED
        proposal.countersigned_by = actor.username
        proposal.countersigned_card = actor.card_serial
        proposal.countersigned_at = now
        decided_by = f"{proposal.proposed_by} / {actor.username}"
        duration = timedelta(seconds=proposal.duration_seconds)
        action = Action(proposal.action)
        if action is Action.ACTIVATE:
            cut = EmergencyDisconnectRow(
                scope=proposal.scope,
                target=proposal.target,
                reason=proposal.reason,
                source="local",
                activated_at=now,
                expires_at=now + duration,
                end_reason="",
                decided_by=decided_by,
            )
            session.add(cut)
            session.flush()
            proposal.disconnect_id = cut.id
            event, tag = "activated", OperatorEvent.EMERGENCY_ACTIVATED
        else:
            cut = _live_cut(session, proposal.disconnect_id, now)
            cut.decided_by = decided_by
            if action is Action.RENEW:
                cut.expires_at = now + duration
                event, tag = "renewed", OperatorEvent.EMERGENCY_RENEWED
            else:
                cut.ended_at, cut.end_reason = now, proposal.reason
                event, tag = "ended", OperatorEvent.EMERGENCY_ENDED
        record_event(session, cut, event, now)
        _order_network_wide(node, session, cut, event)
        log_event(
            node,
            session,
            tag,
            actor=actor.username,
            text=f"#{cut.id} {cut.scope} {cut.target} by {decided_by}".strip(),
            terminal=actor.terminal_id,
        )
        uow.commit()
        view = _disconnect_view(cut, now)
    node.refresh_emergency()
    return view


def _order_network_wide(
    node: ServiceContext, session: Session, cut: EmergencyDisconnectRow, event: str
) -> None:
    """At the centre: a node's cut is a quarantine, an agency's a suspension, for every node."""
    if node.node_id.role is not NodeRole.NATIONAL or cut.scope not in ("node", "agency"):
        return
    base = "quarantine" if cut.scope == "node" else "suspend_agency"
    lift = "lift_quarantine" if cut.scope == "node" else "lift_agency"
    order = {
        "order": lift if event == "ended" else base,
        "target": cut.target,
        "reason": cut.end_reason if event == "ended" else cut.reason,
        "issued_at": node.now().isoformat(),
        "expires_at": aware_utc(cut.expires_at).isoformat(),
    }
    queue_order(node, session, order)


def disconnects(node: ServiceContext, *, actor: Actor, limit: int = 50) -> list[DisconnectView]:
    """Cuts here, newest first, with their countdown (the two roles and auditors see them)."""
    del actor  # the route's rule decides who reads this list
    now = node.now()
    with node.read_session() as session:
        rows = session.scalars(
            select(EmergencyDisconnectRow).order_by(EmergencyDisconnectRow.id.desc()).limit(limit)
        )
        return [_disconnect_view(row, now) for row in rows]


def open_proposals(node: ServiceContext) -> list[ProposalView]:
    """Proposals still waiting for their second card."""
    now = node.now()
    with node.read_session() as session:
        rows = session.scalars(
            select(EmergencyProposalRow)
            .where(EmergencyProposalRow.status == OPEN)
            .order_by(EmergencyProposalRow.id)
        )
        return [
            _proposal_view(row)
            for row in rows
            if not proposal_lapsed(aware_utc(row.proposed_at), now)
        ]


def public_events(node: ServiceContext, *, limit: int = 50) -> list[EventView]:
    """Activation, renewal and end of every cut, newest first (the transparency page)."""
    with node.read_session() as session:
        rows = session.scalars(
            select(EmergencyEventRow).order_by(EmergencyEventRow.id.desc()).limit(limit)
        )
        return [
            EventView(
                disconnect_id=row.disconnect_id,
                action=row.action,
                occurred_at=aware_utc(row.at),
                scope=row.scope,
                target=row.target,
                expires_at=aware_utc(row.expires_at) if row.expires_at else None,
                decided_by=row.decided_by,
                reason=row.reason,
            )
            for row in rows
        ]
