"""What every command module shares: the console, day options, the progress bar."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from engageflow.lake import days_between

console = Console()

Day = Annotated[str, typer.Option(help="UTC day, YYYY-MM-DD")]
Through = Annotated[str | None, typer.Option(help="last day, for a range")]


def parse_day(value: str, option: str) -> date:
    """`value` as a date, or a usage error naming `option`."""
    try:
        return date.fromisoformat(value)
    except ValueError as err:
        message = f"{value!r} is not a date like 2026-01-31"
        raise typer.BadParameter(message, param_hint=option) from err


def day_range(day: str, through: str | None) -> list[date]:
    """The days from --day through --through (or the one day), in order."""
    first = parse_day(day, "--day")
    last = parse_day(through, "--through") if through else first
    return days_between(first, last)


def progress() -> Progress:
    """A bar with a count and the elapsed time, on the shared console."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
