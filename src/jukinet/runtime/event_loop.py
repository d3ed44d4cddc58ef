"""The event loop a node process runs on.

uvicorn[standard] (a declared dependency) brings uvloop: on this machine it serves the same
mutual-TLS lookups with less CPU per request than asyncio's default loop (BENCHMARKS.md §4.1).
``JUKINET_EVENT_LOOP=asyncio`` keeps the standard loop (e.g. to rule uvloop out when a problem
is being diagnosed).
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Coroutine
from typing import Any, Literal, TypeVar

T = TypeVar("T")

EventLoopChoice = Literal["auto", "uvloop", "asyncio"]


def chosen_loop(choice: EventLoopChoice) -> Literal["uvloop", "asyncio"]:
    """The loop ``choice`` resolves to on this machine (``auto``: uvloop when installed)."""
    if choice == "asyncio":
        return "asyncio"
    if importlib.util.find_spec("uvloop") is None:
        if choice == "uvloop":
            msg = "JUKINET_EVENT_LOOP=uvloop, but uvloop is not installed (pip install uvloop)"
            raise RuntimeError(msg)
        return "asyncio"
    return "uvloop"


def run(coroutine: Coroutine[Any, Any, T], choice: EventLoopChoice = "auto") -> T:
    """Run ``coroutine`` to completion on the chosen loop."""
    if chosen_loop(choice) == "uvloop":
        import uvloop

        return uvloop.run(coroutine)
    return asyncio.run(coroutine)
