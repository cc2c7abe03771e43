"""`engageflow model`: train, promote, roll back and audit the ranker."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from engageflow.app.cli.common import console, parse_day
from engageflow.settings import get_settings

app = typer.Typer(no_args_is_help=True, help="Train, promote, roll back and audit the ranker.")

Reason = Annotated[str, typer.Option(help="why: kept in the alias history")]
Actor = Annotated[str | None, typer.Option(help="who moves the alias (default: your login)")]


def _actor(actor: str | None) -> str:
    import getpass

    return actor or getpass.getuser()


@app.command("train")
def model_train(
    end: Annotated[str | None, typer.Option(help="last test day (default: newest in lake)")] = None,
) -> None:
    """Train, evaluate, register a challenger and run the promotion gate (no Airflow)."""
    from engageflow.errors import DataError
    from training.pipeline import run_all
    from training.windows import latest_window

    settings = get_settings()
    try:
        last = parse_day(end, "--end") if end else latest_window(settings).test_end
        done = run_all(settings, last)
    except DataError as err:
        console.print(f"[red]training failed:[/red] {err}")
        raise typer.Exit(2) from err
    where = f"now @{done['alias']}" if done["alias"] else "no alias: it will not serve"
    console.print(f"registered version {done['version']}, {where}")
    console.print(("passed: " if done["passed"] else "refused: ") + "; ".join(done["reasons"]))


@app.command("promote")
def model_promote(
    version: Annotated[int, typer.Argument(help="registered model version")],
    reason: Reason,
    actor: Actor = None,
) -> None:
    """Make VERSION the champion by hand, skipping the gate; the reason is recorded."""
    from mlflow.exceptions import MlflowException

    from engageflow.aliases import promote

    try:
        done = promote(get_settings(), version, reason, _actor(actor))
    except MlflowException as err:
        console.print(f"[red]cannot promote version {version}:[/red] {err.message}")
        raise typer.Exit(2) from err
    console.print(f"champion: v{done.previous} -> v{done.version} ({done.reason})")


@app.command("rollback")
def model_rollback(reason: Reason, actor: Actor = None) -> None:
    """Give `champion` back to the previous champion, in one step."""
    from engageflow.aliases import rollback
    from engageflow.errors import DataError

    try:
        done = rollback(get_settings(), reason, _actor(actor))
    except DataError as err:
        console.print(f"[red]rollback refused:[/red] {err}")
        raise typer.Exit(2) from err
    console.print(f"champion: v{done.previous} -> v{done.version} ({done.reason})")


@app.command("history")
def model_history(
    alias: Annotated[str | None, typer.Option(help="only this alias")] = None,
) -> None:
    """Every alias move, oldest first: when, which version, who, and why."""
    from engageflow.aliases import moves

    table = Table(title=f"alias history of {get_settings().mlflow.registered_model}")
    for column in ("when (UTC)", "alias", "version", "was", "kind", "by", "reason"):
        table.add_column(column, overflow="fold")
    for move in moves(get_settings(), alias):
        table.add_row(
            f"{move.at:%Y-%m-%d %H:%M:%S}",
            move.alias,
            "-" if move.version is None else f"v{move.version}",
            "-" if move.previous is None else f"v{move.previous}",
            move.kind,
            move.actor,
            move.reason,
        )
    console.print(table)
