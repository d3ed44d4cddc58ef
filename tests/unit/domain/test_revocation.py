"""The CRL schedule: when the CA holder republishes and when every node raises the alarm."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jukinet.domain.revocation import CRL_VALIDITY, DEFAULT_POLICY, CrlState, RevocationPolicy

WRITTEN = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
NEXT_UPDATE = WRITTEN + CRL_VALIDITY


def _at(days: float) -> datetime:
    return WRITTEN + timedelta(days=days)


@pytest.mark.parametrize(
    ("days", "due"),
    [
        (0, False),
        (3.4, False),  # more than half of the seven days left
        (3.5 + 1 / 86400, True),  # just under half left
        (6.5, True),
        (7, True),  # at nextUpdate
        (8, True),  # a CA node that was down for days republishes at once
        (400, True),
    ],
)
def test_the_ca_holder_republishes_once_less_than_half_the_validity_is_left(
    days: float, due: bool
) -> None:
    assert DEFAULT_POLICY.republish_due(NEXT_UPDATE, now=_at(days)) is due


@pytest.mark.parametrize(
    ("days", "state"),
    [
        (0, CrlState.FRESH),
        (4.9, CrlState.FRESH),
        (5, CrlState.FRESH),  # exactly two days left: not yet
        (5.01, CrlState.EXPIRING),
        (6, CrlState.EXPIRING),
        (7 - 1 / 86400, CrlState.EXPIRING),
        (7, CrlState.EXPIRED),  # nextUpdate itself: OpenSSL refuses from here on
        (8, CrlState.EXPIRED),
    ],
)
def test_every_node_alerts_two_days_before_expiry_and_loudly_after(
    days: float, state: CrlState
) -> None:
    assert DEFAULT_POLICY.state(NEXT_UPDATE, now=_at(days)) is state


@given(st.floats(min_value=-30, max_value=30))
def test_the_alert_never_comes_before_the_republishing_is_due(days: float) -> None:
    # A list the CA holder keeps fresh never raises the alarm.
    now = _at(days)
    if DEFAULT_POLICY.state(NEXT_UPDATE, now=now) is not CrlState.FRESH:
        assert DEFAULT_POLICY.republish_due(NEXT_UPDATE, now=now)


def test_a_policy_that_would_alarm_on_healthy_lists_is_refused() -> None:
    with pytest.raises(ValueError, match="alert_when_left < republish_when_left"):
        RevocationPolicy(alert_when_left=timedelta(days=4))
    with pytest.raises(ValueError, match="republish_when_left < validity"):
        RevocationPolicy(republish_when_left=timedelta(days=8))
