"""Threat levels and two-card disconnects at one node (both databases): who may, what is
refused and leaves storage unchanged, expiry on the test clock, renewal and end, the log."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from jukinet.domain.emergency import DisconnectProposal
from jukinet.domain.errors import DomainError, FieldErrors, NotFound, PermissionDenied
from jukinet.domain.messages import MessageKind
from jukinet.domain.operator_events import OperatorEvent
from jukinet.domain.operators import Role
from jukinet.services import security_signals
from jukinet.services.context import ServiceContext
from jukinet.services.emergency import disconnects, levels
from jukinet.services.emergency.enforcement import check_provision_open
from jukinet.services.operator_security.cards import report_lost
from jukinet.storage.emergency_tables import EmergencyEventRow
from jukinet.storage.tables import AccessLogRow, OutboxRow
from tests.support.cards import card_administrator
from tests.support.clock import FixedClock
from tests.support.emergency import carded, cut_of, decision
from tests.support.factories import make_actor
from tests.support.snapshots import table_digests

#: Tables a refused attempt may still write: the log of the refusal and the sign-in's traces.
_TRACES = frozenset(
    {"access_log", "auditlog_heads", "operator_sessions", "signin_challenges", "terminals"}
)


def _reasons(node: ServiceContext) -> list[str]:
    with node.session_factory() as session:
        return [r or "" for r in session.scalars(select(AccessLogRow.reason))]


def test_two_cards_cut_everything_and_it_expires_by_itself(
    node: ServiceContext, clock: FixedClock
) -> None:
    officer = carded(node, Role.SECURITY_OFFICER)
    delegate = carded(node, Role.SUPERVISOR)
    proposal = disconnects.propose(node, actor=officer, proposal=cut_of("all", minutes=1))
    assert node.emergency.link_cut("prefecture:13", node.now()) is None  # one card cuts nothing
    cut = disconnects.countersign(node, actor=delegate, proposal_id=proposal.id)
    assert cut.in_force
    assert cut.seconds_left == 60
    assert cut.decided_by == f"{officer.username} / {delegate.username}"
    assert node.emergency.link_cut("prefecture:13", node.now()) is not None
    clock.advance(seconds=59)
    assert node.emergency.link_cut("prefecture:13", node.now()) is not None
    clock.advance(seconds=1)
    assert node.emergency.link_cut("prefecture:13", node.now()) is None  # expired on time
    reasons = _reasons(node)
    for event in (OperatorEvent.EMERGENCY_PROPOSED, OperatorEvent.EMERGENCY_ACTIVATED):
        assert any(r.startswith(event.value) for r in reasons)
    assert [e.action for e in disconnects.public_events(node)] == ["activated"]


def test_renewal_and_end_take_two_cards_too(node: ServiceContext, clock: FixedClock) -> None:
    officer = carded(node, Role.SECURITY_OFFICER)
    delegate = carded(node, Role.SUPERVISOR)
    first = disconnects.propose(node, actor=officer, proposal=cut_of("affair", "T1-16"))
    cut = disconnects.countersign(node, actor=delegate, proposal_id=first.id)
    clock.advance(seconds=50)
    renewal = disconnects.propose(
        node,
        actor=delegate,
        proposal=DisconnectProposal(
            action="renew", reason="調査継続", duration_minutes=2, disconnect_id=cut.id
        ),
    )
    assert check_refused(node, "agency:soumu-onkyu", "T1-16") == 10  # not renewed yet
    renewed = disconnects.countersign(node, actor=officer, proposal_id=renewal.id)
    assert renewed.seconds_left == 120
    clock.advance(seconds=30)
    ending = disconnects.propose(
        node,
        actor=officer,
        proposal=DisconnectProposal(action="end", reason="原因除去", disconnect_id=cut.id),
    )
    ended = disconnects.countersign(node, actor=delegate, proposal_id=ending.id)
    assert not ended.in_force
    assert ended.end_reason == "原因除去"
    check_provision_open(node, "agency:soumu-onkyu", "T1-16")  # open again
    with node.session_factory() as session:
        actions = list(
            session.scalars(select(EmergencyEventRow.action).order_by(EmergencyEventRow.id))
        )
    assert actions == ["activated", "renewed", "ended"]


def check_refused(node: ServiceContext, agency: str, affair: str) -> int:
    """The Retry-After of the refusal ``agency`` gets for ``affair`` (fails if not refused)."""
    with pytest.raises(DomainError) as caught:
        check_provision_open(node, agency, affair)
    assert caught.value.status == 503
    retry = getattr(caught.value, "retry_after", None)
    assert isinstance(retry, int)
    return retry


def _refused_without_trace(node: ServiceContext, attempt: Callable[[], object], code: str) -> None:
    before = table_digests(node, exclude=_TRACES)
    with pytest.raises(DomainError) as caught:
        attempt()
    assert code in {e.code for e in caught.value.each()}
    assert table_digests(node, exclude=_TRACES) == before


def test_one_card_a_clerk_a_stale_card_or_a_missing_node_are_refused(
    node: ServiceContext, clock: FixedClock
) -> None:
    officer = carded(node, Role.SECURITY_OFFICER)
    other_officer = carded(node, Role.SECURITY_OFFICER)
    clerk = carded(node, Role.CLERK)
    no_card = make_actor(node, Role.SUPERVISOR)
    everything = cut_of("all")
    proposal = disconnects.propose(node, actor=officer, proposal=everything)
    # The same card twice is one card.
    _refused_without_trace(
        node,
        lambda: disconnects.countersign(node, actor=officer, proposal_id=proposal.id),
        "JUKI-EMG-023",
    )
    # An id no 64-bit key can hold, or none at all, names no proposal.
    for missing in (2**64, -1, 0):
        _refused_without_trace(
            node,
            lambda missing=missing: disconnects.countersign(
                node, actor=no_card, proposal_id=missing
            ),
            "JUKI-EMG-018",
        )
    # Two officers are not the officer and the chief officer's delegate.
    _refused_without_trace(
        node,
        lambda: disconnects.countersign(node, actor=other_officer, proposal_id=proposal.id),
        "JUKI-EMG-024",
    )
    _refused_without_trace(
        node, lambda: disconnects.propose(node, actor=clerk, proposal=everything), "JUKI-EMG-020"
    )
    _refused_without_trace(
        node, lambda: disconnects.propose(node, actor=no_card, proposal=everything), "JUKI-EMG-021"
    )
    _refused_without_trace(
        node,
        lambda: disconnects.propose(
            node, actor=officer, proposal=cut_of("node", "municipality:132152")
        ),
        "JUKI-EMG-015",
    )
    _refused_without_trace(
        node,
        lambda: disconnects.propose(
            node, actor=officer, proposal=cut_of("agency", "agency:nobody")
        ),
        "JUKI-EMG-015",
    )
    clock.advance(minutes=11)  # the officer's card was presented eleven minutes ago
    _refused_without_trace(
        node, lambda: disconnects.propose(node, actor=officer, proposal=everything), "JUKI-EMG-022"
    )
    assert node.emergency.link_cut("prefecture:13", node.now()) is None


def test_a_proposal_lapses_and_a_lost_card_no_longer_counts(
    node: ServiceContext, clock: FixedClock
) -> None:
    officer = carded(node, Role.SECURITY_OFFICER)
    proposal = disconnects.propose(node, actor=officer, proposal=cut_of("all"))
    clock.advance(minutes=31)
    late = carded(node, Role.SUPERVISOR)
    _refused_without_trace(
        node,
        lambda: disconnects.countersign(node, actor=late, proposal_id=proposal.id),
        "JUKI-EMG-019",
    )
    _refused_without_trace(
        node, lambda: disconnects.countersign(node, actor=late, proposal_id=9999), "JUKI-EMG-018"
    )
    assert late.card_serial is not None
    report_lost(node, actor=card_administrator(), serial=late.card_serial, note="紛失届")
    fresh = disconnects.propose(
        node, actor=carded(node, Role.SECURITY_OFFICER), proposal=cut_of("all")
    )
    _refused_without_trace(
        node,
        lambda: disconnects.countersign(node, actor=late, proposal_id=fresh.id),
        "JUKI-EMG-021",
    )


def test_level_two_queues_a_notice_for_the_prefecture_and_records_the_decision(
    node: ServiceContext,
) -> None:
    officer = carded(node, Role.SECURITY_OFFICER)
    view = levels.change_level(node, actor=officer, decision=decision(2, node.now()))
    assert view.notice_queued
    assert (view.previous_level, view.level) == (0, 2)
    with node.session_factory() as session:
        notices = list(
            session.scalars(
                select(OutboxRow).where(OutboxRow.kind == MessageKind.INCIDENT_NOTICE.value)
            )
        )
    assert [n.recipient for n in notices] == ["prefecture:13"]
    assert notices[0].body["minutes_ref"] == "SC-2026-02"
    history = levels.level_history(node)
    assert history[0].decided_by == "統括責任者 山田一郎"
    assert history[0].recorded_by == officer.username
    assert node.emergency.effective_level == 2
    assert any(r.startswith(OperatorEvent.THREAT_LEVEL_CHANGED.value) for r in _reasons(node))


def test_a_clerk_cannot_set_the_level_and_bad_fields_are_all_reported(
    node: ServiceContext,
) -> None:
    clerk = make_actor(node, Role.CLERK)
    _refused_without_trace(
        node,
        lambda: levels.change_level(node, actor=clerk, decision=decision(3, node.now())),
        "JUKI-EMG-020",
    )
    officer = make_actor(node, Role.SECURITY_OFFICER)
    bad = decision(9, node.now() + timedelta(hours=2), scope="network")
    before = table_digests(node, exclude=_TRACES)
    with pytest.raises(FieldErrors) as caught:
        levels.change_level(node, actor=officer, decision=bad)
    assert {e.code for e in caught.value.each()} == {"JUKI-EMG-001", "JUKI-EMG-005", "JUKI-EMG-007"}
    assert table_digests(node, exclude=_TRACES) == before


def test_level_three_keeps_urgent_affairs_and_level_one_tightens_alerts(
    node: ServiceContext,
) -> None:
    officer = make_actor(node, Role.SECURITY_OFFICER)
    levels.mark_urgent(node, actor=officer, affair_code="T1-16", urgent=True)
    levels.change_level(node, actor=officer, decision=decision(3, node.now()))
    check_provision_open(node, "agency:soumu-onkyu", "T1-16")
    assert check_refused(node, "agency:soumu-onkyu", "T1-26") > 0
    assert node.emergency.read_only
    with pytest.raises(NotFound):
        levels.mark_urgent(node, actor=officer, affair_code="T1-999", urgent=True)
    levels.change_level(node, actor=officer, decision=decision(1, node.now()))
    assert not node.emergency.read_only
    check_provision_open(node, "agency:soumu-onkyu", "T1-26")
    # Level 1: the alert list runs with tightened thresholds (it still answers).
    auditor = make_actor(node, Role.AUDITOR)
    assert security_signals.alerts(node, actor=auditor) == []


def test_refused_roles_never_see_the_permission(node: ServiceContext) -> None:
    auditor = carded(node, Role.AUDITOR)
    with pytest.raises(PermissionDenied):
        disconnects.propose(node, actor=auditor, proposal=cut_of("all"))
