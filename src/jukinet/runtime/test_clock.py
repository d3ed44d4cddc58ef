"""TEST ONLY: run a node process with its clock moved forward (``test_clock_offset_seconds``).

Moving only the application's clock would be a lie: the TLS handshake checks certificates and
the revocation list against OpenSSL's clock, which reads the system time. So the runner starts
itself again under libfaketime (Debian package ``faketime``), which moves the clock of the whole
process — Python, OpenSSL, the database driver — and nothing else on the machine. Settings
refuse the offset outside ``dev`` and ``test``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from jukinet.config import SettingsError, variable_of

#: Where Debian's ``libfaketime`` puts its library (amd64 and arm64).
FAKETIME_LIBRARIES = (
    Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"),
    Path("/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1"),
)


def faketime_library() -> Path | None:
    """The libfaketime library on this machine, if installed."""
    return next((path for path in FAKETIME_LIBRARIES if path.exists()), None)


def moved_clock_environment(offset_seconds: float, library: Path) -> dict[str, str]:
    """The variables that make libfaketime move a process's clock by ``offset_seconds``."""
    return {
        "LD_PRELOAD": str(library),
        "FAKETIME": f"{offset_seconds:+.0f}",
        # Timeouts and back-off use the monotonic clock: leave it alone. (Faking it too makes
        # libfaketime 0.9.10 hang in threading.Event.wait.) Known trap of this mode: a plain
        # time.sleep fails with EINVAL, so node code waits on events, never on time.sleep.
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
    }


def clock_is_moved(offset_seconds: float, environ: Mapping[str, str]) -> bool:
    """Whether this process already runs under libfaketime with this offset."""
    library = faketime_library()
    return (
        library is not None
        and str(library) in environ.get("LD_PRELOAD", "")
        and environ.get("FAKETIME") == f"{offset_seconds:+.0f}"
    )


def restart_with_moved_clock(offset_seconds: float, argv: list[str]) -> None:
    """Replace this process with ``argv`` run under libfaketime, unless it already is.

    Returns only when nothing needs doing (offset 0 or already moved); raises
    :class:`SettingsError` when libfaketime is not installed (fail closed: a test that asked
    for a moved clock must not run with the real one).
    """
    if offset_seconds == 0 or clock_is_moved(offset_seconds, os.environ):
        return
    library = faketime_library()
    if library is None:
        raise SettingsError.one(
            variable_of("test_clock_offset_seconds"),
            ja="時計を進めるには libfaketime が必要です（apt-get install faketime）。",
            en="moving the clock needs libfaketime: apt-get install faketime",
        )
    environ = dict(os.environ) | moved_clock_environment(offset_seconds, library)
    os.execve(sys.executable, [sys.executable, *argv], environ)  # noqa: S606 - our interpreter
