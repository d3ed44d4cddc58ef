"""Help and tables into a pipe are not cut at 80 columns (issue 17, item 3)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer.main
from typer.testing import CliRunner

from jukinet.cli.main import app

JUKINET = Path(sys.executable).parent / "jukinet"
#: Rich's mark of a cut cell: a word that ends in "…" (the help's own "…" follows a space or /).
CUT = re.compile(r"[\w-]…(\s|$)")


def _commands(group: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for name, command in getattr(group, "commands", {}).items():
        yield from _commands(command, (*path, name))


def test_no_help_is_cut_when_it_is_not_shown_on_a_terminal() -> None:
    runner = CliRunner()
    paths = list(_commands(typer.main.get_command(app)))
    assert ("register", "move-in") in paths
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": None})
        assert result.exit_code == 0, (path, result.output)
        assert not CUT.search(result.output), (path, result.output)


def test_help_into_a_pipe_names_every_option_in_full() -> None:
    piped = subprocess.run(
        [str(JUKINET), "register", "move-in", "--help"],
        env={"PATH": "/usr/bin:/bin", "JUKINET_ENVIRONMENT": "dev"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "--previous-municipality-code" in piped.stdout
    assert not CUT.search(piped.stdout)
