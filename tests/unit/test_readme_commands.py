"""Every `engageflow` command line in README.md parses with the real CLI (names, options,
argument types), so the documented examples cannot drift from the code."""

from __future__ import annotations

import shlex

import pytest
import typer
from readme import README, command_lines

from engageflow.app.cli import app

PROGRAM = ".venv/bin/engageflow"
LINES = command_lines(README.read_text(), PROGRAM)


def _parse(command, name: str, args: list[str], parent=None) -> None:
    ctx = command.make_context(name, args, parent=parent)
    if hasattr(command, "resolve_command"):  # a group (Typer vendors its own click)
        name, sub, rest = command.resolve_command(ctx, [*ctx._protected_args, *ctx.args])
        _parse(sub, name, rest, ctx)


def test_readme_has_command_examples() -> None:
    verbs = {shlex.split(line, comments=True)[1] for line in LINES}
    assert {"model", "import-events", "simulate", "serve"} <= verbs


@pytest.mark.parametrize("line", LINES)
def test_readme_command_parses(line: str) -> None:
    args = shlex.split(line, comments=True)
    # A trailing `&` (run in the background) belongs to the shell, not to the command.
    args = [a for a in args[1:] if a != "&"]
    _parse(typer.main.get_command(app), "engageflow", args)
