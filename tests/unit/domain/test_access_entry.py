"""The access-log entry: its canonical bytes and the cheap per-row variant batches use."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jukinet.domain.access_log import (
    AccessEntry,
    Action,
    ActorKind,
    Channel,
    InvalidAccessEntry,
    canonical_bytes,
    entry_bytes,
    entry_from_dict,
    entry_to_dict,
    stored_values,
    timestamp_text,
)

_JST = timezone(timedelta(hours=9))


def _template() -> AccessEntry:
    return AccessEntry(
        recorded_at=datetime(2026, 11, 26, 9, 30, tzinfo=_JST),
        node="national:000000",
        action=Action.READ,
        channel=Channel.BATCH,
        actor_kind=ActorKind.RECIPIENT,
        actor="agency:soumu-onkyu",
        subject="12345678901",
        affair_code="T1-16",
        reason="恩給法",
        items=("resident_code", "name"),
        officer="山田",
        case_number="R8-1",
        job_id="job1",
        detail={"row": 1},
    )


def test_variant_equals_the_entry_built_in_full() -> None:
    template = _template()
    variant = template.variant(
        action=Action.NOT_FOUND, subject="10987654321", items=(), detail={"row": 7}
    )
    full = AccessEntry(
        recorded_at=template.recorded_at,
        node=template.node,
        action=Action.NOT_FOUND,
        channel=template.channel,
        actor_kind=template.actor_kind,
        actor=template.actor,
        subject="10987654321",
        affair_code=template.affair_code,
        reason=template.reason,
        items=(),
        officer=template.officer,
        case_number=template.case_number,
        job_id=template.job_id,
        detail={"row": 7},
    )
    assert variant == full
    assert entry_bytes(9, variant) == entry_bytes(9, full)
    assert template.subject == "12345678901"  # the template is untouched


@pytest.mark.parametrize("subject", ["123456789012", "12\n45", 12345])
def test_variant_still_checks_the_subject(subject: object) -> None:
    with pytest.raises(InvalidAccessEntry) as raised:
        # Deliberately the wrong type for one case (an int): the check must not trust hints.
        _template().variant(action=Action.READ, subject=subject, items=(), detail={})  # type: ignore[arg-type]
    assert raised.value.field == "subject"


def test_recorded_at_is_stored_in_utc() -> None:
    entry = _template()
    assert entry.recorded_at.tzinfo is UTC
    assert timestamp_text(entry.recorded_at) == "2026-11-26T00:30:00.000000+00:00"


@given(
    row=st.integers(min_value=0, max_value=10**9),
    subject=st.none() | st.text(alphabet="0123456789", min_size=11, max_size=11),
    reason=st.none() | st.text(min_size=0, max_size=30).filter(str.isprintable),
)
def test_canonical_bytes_of_stored_values_equal_entry_bytes(
    row: int, subject: str | None, reason: str | None
) -> None:
    entry = _template().variant(
        action=Action.CANDIDATE, subject=subject, items=("name",), detail={"row": row, "a": 1}
    )
    entry = replace(entry, reason=reason)
    # As storage hands a row back: items as text, detail a fresh dict in another key order.
    read_back = list(stored_values(entry))
    read_back[-1] = dict(reversed(list(entry.detail.items())))
    stamp = timestamp_text(entry.recorded_at)
    assert canonical_bytes(4, stamp, read_back) == entry_bytes(4, entry)
    assert entry_bytes(4, entry, timestamp=stamp) == entry_bytes(4, entry)
    assert entry_from_dict(entry_to_dict(4, entry)) == (4, entry)


def test_the_detail_key_order_does_not_change_the_bytes() -> None:
    one = _template().variant(action=Action.READ, subject=None, items=(), detail={"a": 1, "b": 2})
    two = _template().variant(action=Action.READ, subject=None, items=(), detail={"b": 2, "a": 1})
    assert entry_bytes(0, one) == entry_bytes(0, two)
    assert entry_bytes(0, one) != entry_bytes(1, one)  # the position is part of the bytes
