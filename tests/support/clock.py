"""A controllable clock for tests."""

from __future__ import annotations

from datetime import datetime, timedelta


class FixedClock:
    """Returns a fixed instant until advanced."""

    def __init__(self, now: datetime) -> None:
        self.current = now

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> None:
        """Move time forward by ``timedelta(**kwargs)``."""
        self.current += timedelta(**kwargs)
