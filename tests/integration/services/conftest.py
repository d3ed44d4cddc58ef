"""Fixtures for the service tests of this folder."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from jukinet.storage import access_log_check

#: Range size (as a power of two) of the worker path in tests: a few entries per range, so a
#: log of a dozen entries already spans several ranges and heads end inside ranges.
TEST_RANGE_LEVEL = 2


@pytest.fixture(params=["one process", "workers"])
def verify_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run the test's ``audit verify`` calls in this process, or over worker processes in
    ranges of four entries; on the worker path, check that it was taken."""
    if request.param == "one process":
        monkeypatch.setattr(access_log_check, "PARALLEL_MIN_ENTRIES", 10**12)
        yield request.param
        return
    used: list[int] = []
    scan = access_log_check.scan_ranges

    def counted(*args: Any, **kwargs: Any) -> Any:
        used.append(1)
        return scan(*args, **kwargs)

    monkeypatch.setattr(access_log_check, "PARALLEL_MIN_ENTRIES", 1)
    monkeypatch.setattr(access_log_check, "RANGE_LEVEL", TEST_RANGE_LEVEL)
    monkeypatch.setattr(access_log_check, "scan_ranges", counted)
    yield request.param
    assert used, "the worker path was not taken"
