"""``./scripts/demo`` installs what the demo needs and says what it runs (issue 17, item 5)."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_installs_jukinet_alone_and_the_tests_their_tools() -> None:
    demo = (ROOT / "scripts/demo").read_text(encoding="utf-8")
    assert "./scripts/setup --demo" in demo
    assert "six processes" in demo  # the header describes the network, not one municipality
    setup = (ROOT / "scripts/setup").read_text(encoding="utf-8")
    assert 'extras=""' in setup.split("--demo", 2)[2]
    assert "-q" in setup
    assert "[ -x .venv/bin/pytest ] || ./scripts/setup" in (ROOT / "scripts/test").read_text()
    for script in ("setup", "demo", "test"):
        subprocess.run(["bash", "-n", str(ROOT / "scripts" / script)], check=True)


def test_the_licence_is_an_spdx_expression_without_deprecated_classifiers() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "Apache-2.0"
    assert not [c for c in project.get("classifiers", []) if c.startswith("License ::")]
