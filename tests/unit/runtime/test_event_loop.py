"""A node process runs on uvloop when it is installed, or on the loop its settings name."""

from __future__ import annotations

import asyncio
import importlib.util

import pytest

from jukinet.config import load_settings
from jukinet.runtime import event_loop

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("uvloop") is None, reason="uvloop not installed (uvicorn[standard])"
)


async def _loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__


def test_auto_runs_on_uvloop() -> None:
    assert event_loop.chosen_loop("auto") == "uvloop"
    assert event_loop.run(_loop_module()).startswith("uvloop")


def test_asyncio_keeps_the_standard_loop() -> None:
    assert event_loop.chosen_loop("asyncio") == "asyncio"
    assert event_loop.run(_loop_module(), "asyncio").startswith("asyncio")


def test_the_setting_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUKINET_EVENT_LOOP", "asyncio")
    assert load_settings(environment="test").event_loop == "asyncio"
    monkeypatch.setenv("JUKINET_EVENT_LOOP", "tokio")
    with pytest.raises(ValueError, match="JUKINET_EVENT_LOOP"):
        load_settings(environment="test")
