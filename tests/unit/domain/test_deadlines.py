"""Delivery deadlines (pure): every message kind has one, and a node's overrides are checked."""

from __future__ import annotations

from datetime import timedelta

import pytest

from jukinet.domain.deadlines import deadlines
from jukinet.domain.errors import ValidationError
from jukinet.domain.messages import MessageKind


def test_every_message_kind_has_a_deadline() -> None:
    # A kind added without a deadline would stop every node at start-up.
    assert set(deadlines()) == set(MessageKind)


def test_emergency_kinds_are_due_sooner_than_identity_notices() -> None:
    every = deadlines()
    assert every[MessageKind.IDENTITY_NOTICE] == timedelta(hours=1)
    assert every[MessageKind.INCIDENT_NOTICE] < every[MessageKind.IDENTITY_NOTICE]
    assert every[MessageKind.EMERGENCY_ORDER] < every[MessageKind.IDENTITY_NOTICE]


def test_an_override_replaces_one_kind() -> None:
    assert deadlines({"identity_notice": 120})[MessageKind.IDENTITY_NOTICE] == timedelta(minutes=2)


@pytest.mark.parametrize("overrides", [{"no_such_kind": 600}, {"identity_notice": 1}])
def test_unknown_kinds_and_deadlines_out_of_range_are_refused(overrides: dict[str, float]) -> None:
    with pytest.raises(ValidationError) as refused:
        deadlines(overrides)
    assert refused.value.code.startswith("JUKI-DLV-")
