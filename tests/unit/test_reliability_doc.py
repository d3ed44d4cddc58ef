"""RELIABILITY.md stays honest: every test it names exists (a renamed test breaks this)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# `tests/x/test_y.py::test_z`, then `::test_w` or `…::test_w` for another test of that same file.
_REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(\w+)|`(?:…)?::(\w+)")


def _references() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for line in (ROOT / "RELIABILITY.md").read_text(encoding="utf-8").splitlines():
        current: str | None = None
        for path, name, same_file_name in _REFERENCE.findall(line):
            if path:
                current = path
                found.append((path, name))
            elif current is not None:
                found.append((current, same_file_name))
    return found


def test_every_test_named_in_reliability_md_exists() -> None:
    references = _references()
    assert len(references) > 40
    missing = [
        f"{path}::{name}"
        for path, name in references
        if not (ROOT / path).is_file()
        or not re.search(rf"^(async )?def {name}\(", (ROOT / path).read_text(), re.M)
    ]
    assert missing == []


def test_every_test_file_named_in_reliability_md_exists() -> None:
    text = (ROOT / "RELIABILITY.md").read_text(encoding="utf-8")
    files = set(re.findall(r"`(tests/[\w/]+\.py)`", text))
    assert files
    assert sorted(f for f in files if not (ROOT / f).is_file()) == []
