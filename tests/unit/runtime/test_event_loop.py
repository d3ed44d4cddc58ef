"""A node process runs on uvloop when it is installed, or on the loop its settings name."""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib.util

import pytest

from jukinet.config import load_settings
from jukinet.runtime import event_loop

# uvloop is a declared dependency (uvicorn[standard]); skipped only in an environment that
# installed jukinet without it, where "auto" rightly falls back to asyncio.
pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("uvloop") is None, reason="uvloop not installed (uvicorn[standard])"
)


async def _loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__


def _in_a_fresh_thread(choice: event_loop.EventLoopChoice = "auto") -> str:
    # As in a node process: no loop is running in this thread (another test of this worker
    # may have left one set in the main thread).
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(event_loop.run, _loop_module(), choice).result(timeout=30)


def test_auto_runs_on_uvloop() -> None:
    assert event_loop.chosen_loop("auto") == "uvloop"
    assert _in_a_fresh_thread().startswith("uvloop")


def test_asyncio_keeps_the_standard_loop() -> None:
    assert event_loop.chosen_loop("asyncio") == "asyncio"
    assert _in_a_fresh_thread("asyncio").startswith("asyncio")


def test_the_setting_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUKINET_EVENT_LOOP", "asyncio")
    assert load_settings(environment="test").event_loop == "asyncio"
    monkeypatch.setenv("JUKINET_EVENT_LOOP", "tokio")
    with pytest.raises(ValueError, match="JUKINET_EVENT_LOOP"):
        load_settings(environment="test")
