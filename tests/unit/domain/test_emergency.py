"""Threat levels and emergency disconnects as pure rules: the state machine, the two-card rule,
expiry and the clock-skew margin."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from jukinet.domain.emergency import (
    CARD_FRESHNESS,
    SKEW_MARGIN,
    Action,
    Cut,
    DisconnectProposal,
    EmergencyState,
    LevelDecision,
    Scope,
    ThreatLevel,
    check_card_holder,
    check_countersigner,
    check_level_decision,
    check_proposal,
    disconnects_everything,
    notifies_upstream,
    proposal_lapsed,
    read_only,
    suspends_provision,
    tightens_signals,
    travelling_expiry,
)
from jukinet.domain.errors import Conflict, FieldErrors, PermissionDenied
from jukinet.domain.insider_signals import SignalThresholds
from jukinet.domain.operators import Actor, Role

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
HERE = "municipality:132292"
PREF = "prefecture:13"


def _actor(role: Role, name: str = "someone", card: str | None = "C-1") -> Actor:
    return Actor(operator_id=1, username=name, role=role, card_serial=card)


_BASE = LevelDecision(
    level=2,
    reason="firewall stopped an attack",
    decided_by="統括責任者 山田",
    decided_at=NOW - timedelta(minutes=5),
    minutes_ref="SC-2026-11",
)


def _decision(**changes: Any) -> LevelDecision:
    return replace(_BASE, **changes)


# --- the runbook ------------------------------------------------------------------------------


def test_each_level_does_what_the_runbook_says() -> None:
    assert [tightens_signals(n) for n in range(5)] == [False, True, True, True, True]
    assert [read_only(n) for n in range(5)] == [False, False, False, True, True]
    assert [suspends_provision(n) for n in range(5)] == [False, False, False, True, True]
    assert [disconnects_everything(n) for n in range(5)] == [False] * 4 + [True]


def test_an_incident_notice_goes_when_level_two_is_reached_or_passed_upwards() -> None:
    assert notifies_upstream(0, 2)
    assert notifies_upstream(1, 2)
    assert notifies_upstream(2, 3)
    assert not notifies_upstream(0, 1)
    assert not notifies_upstream(3, 2)  # lowering tells nobody by notice


def test_level_one_tightens_the_thresholds() -> None:
    base = SignalThresholds()
    tight = base.tightened(2)
    assert tight.volume_floor < base.volume_floor
    assert tight.many_readers < base.many_readers
    assert tight.volume_multiplier < base.volume_multiplier
    assert tight.history_days == base.history_days


def test_a_level_decision_checks_every_field_at_once() -> None:
    with pytest.raises(FieldErrors) as caught:
        check_level_decision(
            _decision(level=7, reason=" ", minutes_ref="", decided_at=NOW + timedelta(hours=1)),
            current=0,
            now=NOW,
            at_centre=False,
        )
    codes = {e.code for e in caught.value.each()}
    assert codes == {"JUKI-EMG-001", "JUKI-EMG-002", "JUKI-EMG-004", "JUKI-EMG-005"}


def test_only_the_centre_decides_the_network_level() -> None:
    with pytest.raises(FieldErrors) as caught:
        check_level_decision(_decision(scope="network"), current=0, now=NOW, at_centre=False)
    assert caught.value.status == 403
    checked = check_level_decision(_decision(scope="network"), current=0, now=NOW, at_centre=True)
    assert checked.network_wide


def test_an_unchanged_level_is_a_conflict() -> None:
    with pytest.raises(Conflict):
        check_level_decision(_decision(level=2), current=2, now=NOW, at_centre=False)
    checked = check_level_decision(_decision(level=0), current=2, now=NOW, at_centre=False)
    assert checked.level is ThreatLevel.NORMAL


# --- proposals and the two cards ----------------------------------------------------------------


def test_a_proposal_to_cut_needs_a_scope_a_target_and_a_sane_duration() -> None:
    with pytest.raises(FieldErrors) as caught:
        check_proposal(DisconnectProposal(action="activate", reason="x", scope="planet", target=""))
    assert {e.code for e in caught.value.each()} == {"JUKI-EMG-012"}
    with pytest.raises(FieldErrors) as caught:
        check_proposal(
            DisconnectProposal(
                action="activate", reason="", scope="link", target="", duration_minutes=0.1
            )
        )
    assert {e.code for e in caught.value.each()} == {"JUKI-EMG-002", "JUKI-EMG-011", "JUKI-EMG-013"}
    everything = check_proposal(
        DisconnectProposal(action="activate", reason="x", scope="all", target="ignored")
    )
    assert everything.scope is Scope.ALL
    assert everything.target == ""


def test_renewing_or_ending_names_the_cut() -> None:
    with pytest.raises(FieldErrors) as caught:
        check_proposal(DisconnectProposal(action="renew", reason="x"))
    assert caught.value.code == "JUKI-EMG-014"
    checked = check_proposal(DisconnectProposal(action="end", reason="x", disconnect_id=3))
    assert checked.action is Action.END


@pytest.mark.parametrize("role", [Role.CLERK, Role.AUDITOR, Role.SYSTEM_ADMINISTRATOR])
def test_a_clerk_or_other_role_takes_no_part(role: Role) -> None:
    with pytest.raises(PermissionDenied) as caught:
        check_card_holder(_actor(role), session_started=NOW, now=NOW)
    assert caught.value.code == "JUKI-EMG-020"


def test_no_card_or_a_card_presented_too_long_ago_is_refused() -> None:
    with pytest.raises(PermissionDenied) as caught:
        check_card_holder(_actor(Role.SECURITY_OFFICER, card=None), session_started=NOW, now=NOW)
    assert caught.value.code == "JUKI-EMG-021"
    stale = NOW - CARD_FRESHNESS - timedelta(seconds=1)
    with pytest.raises(PermissionDenied) as caught:
        check_card_holder(_actor(Role.SECURITY_OFFICER), session_started=stale, now=NOW)
    assert caught.value.code == "JUKI-EMG-022"
    check_card_holder(_actor(Role.SUPERVISOR), session_started=NOW - CARD_FRESHNESS, now=NOW)


def test_the_second_card_is_another_persons_in_the_other_role() -> None:
    with pytest.raises(PermissionDenied) as caught:
        check_countersigner("sec1", Role.SECURITY_OFFICER, _actor(Role.SUPERVISOR, "sec1"))
    assert caught.value.code == "JUKI-EMG-023"
    with pytest.raises(PermissionDenied) as caught:
        check_countersigner("sec1", Role.SECURITY_OFFICER, _actor(Role.SECURITY_OFFICER, "sec2"))
    assert caught.value.code == "JUKI-EMG-024"
    check_countersigner("sec1", Role.SECURITY_OFFICER, _actor(Role.SUPERVISOR, "boss"))


def test_a_proposal_lapses_after_half_an_hour() -> None:
    assert not proposal_lapsed(NOW, NOW + timedelta(minutes=30))
    assert proposal_lapsed(NOW, NOW + timedelta(minutes=30, seconds=1))


# --- what is in force ---------------------------------------------------------------------------


def _cut(scope: Scope, target: str, *, minutes: float = 1, source: str = "local") -> Cut:
    return Cut(1, scope, target, "test", NOW + timedelta(minutes=minutes), source=source)


def test_a_link_cut_stops_that_link_only_and_expires_by_itself() -> None:
    state = EmergencyState(here=HERE, cuts=(_cut(Scope.LINK, PREF),))
    assert state.link_cut(PREF, NOW) is not None
    assert state.link_cut(PREF, NOW, inbound=True) is not None
    assert state.link_cut("municipality:132152", NOW) is None
    assert state.link_cut(PREF, NOW + timedelta(minutes=1)) is None  # expired on time
    assert state.provision_cut("agency-1", "T1-16", NOW) is None  # agencies are not touched


def test_a_cut_of_this_node_or_of_everything_stops_every_link() -> None:
    for cut in (_cut(Scope.NODE, HERE), _cut(Scope.ALL, "")):
        state = EmergencyState(here=HERE, cuts=(cut,))
        assert state.link_cut(PREF, NOW) is not None
        assert state.link_cut("prefecture:14", NOW) is not None


def test_a_quarantine_ordered_elsewhere_refuses_what_comes_from_the_node_only() -> None:
    quarantined = "municipality:132152"
    state = EmergencyState(here=PREF, cuts=(_cut(Scope.NODE, quarantined, source="national:jlis"),))
    assert state.link_cut(quarantined, NOW, inbound=True) is not None
    assert state.link_cut(quarantined, NOW) is None  # the order still reaches it
    at_itself = EmergencyState(
        here=quarantined, cuts=(_cut(Scope.NODE, quarantined, source="national:jlis"),)
    )
    assert at_itself.link_cut(PREF, NOW) is not None
    assert at_itself.link_cut(PREF, NOW, inbound=True) is None  # it still hears the lifting


def test_an_agency_cut_stops_that_agency_only_with_a_retry_after() -> None:
    state = EmergencyState(here=HERE, cuts=(_cut(Scope.AGENCY, "agency-1", minutes=2),))
    cut = state.provision_cut("agency-1", "T1-16", NOW)
    assert cut is not None
    assert cut.seconds_left(NOW) == 120
    assert state.provision_cut("agency-2", "T1-16", NOW) is None
    assert state.link_cut(PREF, NOW) is None


def test_an_affair_cut_stops_that_affair_for_everyone() -> None:
    state = EmergencyState(here=HERE, cuts=(_cut(Scope.AFFAIR, "T1-16"),))
    assert state.provision_cut("agency-1", "T1-16", NOW) is not None
    assert state.provision_cut("agency-1", "T1-17", NOW) is None


def test_level_three_keeps_urgent_affairs_and_level_four_cuts_everything() -> None:
    three = EmergencyState(here=HERE, level=3, urgent_affairs=frozenset({"T1-16"}))
    assert three.read_only
    assert three.provision_cut("agency-1", "T1-16", NOW) is None
    assert three.provision_cut("agency-1", "T1-17", NOW) is not None
    assert three.link_cut(PREF, NOW) is None
    four = EmergencyState(here=HERE, network_level=4)
    assert four.effective_level == 4
    assert four.link_cut(PREF, NOW) is not None
    assert four.provision_cut("agency-1", "T1-16", NOW) is not None


def test_an_ended_cut_is_not_in_force() -> None:
    ended = Cut(1, Scope.ALL, "", "x", NOW + timedelta(hours=1), ended=True)
    assert EmergencyState(here=HERE, cuts=(ended,)).link_cut(PREF, NOW) is None


@pytest.mark.parametrize("skew_minutes", [-5, -1, 0, 1, 5])
def test_clock_skew_up_to_five_minutes_never_ends_an_order_early(skew_minutes: int) -> None:
    issued = NOW
    expires = issued + timedelta(minutes=2)
    held_until = travelling_expiry(expires)
    cut = Cut(1, Scope.NODE, HERE, "quarantine", held_until, source="national:jlis")
    # The receiver's clock differs from the issuer's by ``skew``: at every instant the issuer
    # still holds the order, the receiver does too.
    skew = timedelta(minutes=skew_minutes)
    for seconds in range(0, 120, 10):
        issuer_now = issued + timedelta(seconds=seconds)
        assert cut.in_force(issuer_now + skew)
    # And it does end: at most the margin after the issuer's expiry.
    assert not cut.in_force(expires + skew + SKEW_MARGIN + SKEW_MARGIN)
