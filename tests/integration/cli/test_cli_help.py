"""Help and tables into a pipe are not cut at 80 columns (issue 17, item 3)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
import typer.rich_utils
from typer.testing import CliRunner

from jukinet.cli.common import PIPE_WIDTH, output_width
from jukinet.cli.main import app

JUKINET = Path(sys.executable).parent / "jukinet"
#: Rich's mark of a cut cell: a word that ends in "…" (the help's own "…" follows a space or /).
CUT = re.compile(r"[\w-]…(\s|$)")


def _commands(group: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for name, command in getattr(group, "commands", {}).items():
        yield from _commands(command, (*path, name))


def test_no_help_is_cut_when_it_is_not_shown_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The width is fixed when the command line is imported; another test of this process may
    # have imported it with COLUMNS set. Take it as a process started into a pipe would.
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("TERMINAL_WIDTH", raising=False)
    monkeypatch.setattr(typer.rich_utils, "MAX_WIDTH", output_width())
    assert typer.rich_utils.MAX_WIDTH == PIPE_WIDTH
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
