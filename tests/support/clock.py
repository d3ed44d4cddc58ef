"""A controllable clock for tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path


class FixedClock:
    """Returns a fixed instant until advanced."""

    def __init__(self, now: datetime) -> None:
        self.current = now

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> None:
        """Move time forward by ``timedelta(**kwargs)``."""
        self.current += timedelta(**kwargs)


class FileClock:
    """Reads the current instant from a file on every call (a server process's clock that
    a test moves from outside: ISO 8601 with a zone)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self) -> datetime:
        return datetime.fromisoformat(self.path.read_text(encoding="utf-8").strip())

    def set(self, moment: datetime) -> None:
        """Move the clock to ``moment``."""
        self.path.write_text(moment.isoformat(), encoding="utf-8")
