"""Modules stay small enough to read (docs/architecture.md): none over 700 lines in src/,
except generated migrations and pure maths whose docstring says why."""

from __future__ import annotations

from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "jukinet"
LIMIT = 700
#: Pure maths kept whole, each with its reason in its own docstring.
PURE_MATHS = {"domain/audit_math.py"}


def _long_modules() -> dict[str, int]:
    lengths = {
        str(path.relative_to(SRC)): len(path.read_text(encoding="utf-8").splitlines())
        for path in SRC.rglob("*.py")
        if "migrations" not in path.parts
    }
    return {name: lines for name, lines in lengths.items() if lines > LIMIT}


def test_no_module_is_over_the_limit() -> None:
    assert set(_long_modules()) <= PURE_MATHS


def test_kept_whole_modules_say_why() -> None:
    for name in PURE_MATHS:
        text = (SRC / name).read_text(encoding="utf-8")
        assert "Why one module over" in text, name
