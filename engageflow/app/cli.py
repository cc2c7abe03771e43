"""The `engageflow` command line: simulate, import, ingest, summarise, features, serve, demo."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from engageflow.settings import get_settings

app = typer.Typer(no_args_is_help=True, help=__doc__, pretty_exceptions_enable=False)
model = typer.Typer(no_args_is_help=True, help="Train, promote, roll back and audit the ranker.")
app.add_typer(model, name="model")
console = Console()

Day = Annotated[str, typer.Option(help="UTC day, YYYY-MM-DD")]


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as err:
        message = f"{value!r} is not a date like 2026-01-31"
        raise typer.BadParameter(message, param_hint=option) from err


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


@app.command()
def simulate(
    days: Annotated[int, typer.Option(min=1, help="how many consecutive days")] = 3,
    seed: Annotated[int | None, typer.Option(help="random seed (default: settings)")] = None,
    start: Annotated[str | None, typer.Option(help="first day (default: settings)")] = None,
    requests: Annotated[int | None, typer.Option(min=1, help="requests per day")] = None,
    policy: Annotated[
        str, typer.Option(help="random, service (settings.serving), or a service URL")
    ] = "random",
) -> None:
    """Simulate days of the engagement loop into the landing zone (events, catalog, truth)."""
    from engageflow.app.simulate import simulate as run
    from engageflow.app.simulate import slate_policy

    overrides: dict = {}
    if seed is not None:
        overrides["seed"] = seed
    settings = get_settings(**overrides)
    try:
        chosen = slate_policy(settings, policy)
    except ValueError as err:
        raise typer.BadParameter(str(err), param_hint="--policy") from None
    except RuntimeError as err:  # serving.http_policy.ServiceUnavailable: says what to start
        console.print(f"[red]cannot simulate:[/red] {err}")
        raise typer.Exit(1) from err
    if requests is not None:
        settings.simulation.requests_per_day = requests
    first = _day(start, "--start") if start else None
    with _progress() as bar:
        task = bar.add_task("simulating", total=days)
        for done in run(settings, days, chosen, first):
            bar.advance(task)
            console.print(f"{done.day}: {done.rows:,} events -> {done.events.parent}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default: settings.serving.host")] = None,
    port: Annotated[int | None, typer.Option(help="default: settings.serving.port")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="default: settings")] = None,
) -> None:
    """Start the ranking service (`bentoml serve serving.service:Ranker`); Ctrl+C stops it."""
    import subprocess

    from serving.launch import serve_command, serve_env

    settings = get_settings()
    for name, value in (("host", host), ("port", port), ("workers", workers)):
        if value is not None:
            setattr(settings.serving, name, value)
    command = serve_command(settings)
    console.print(f"serving on http://{settings.serving.host}:{settings.serving.port} (/docs)")
    raise typer.Exit(subprocess.run(command, env=serve_env(settings), check=False).returncode)


@app.command("import-events")
def import_events(
    source: Annotated[Path, typer.Argument(help="CSV or Parquet file of interaction logs")],
    user: Annotated[str, typer.Option(help="column holding the user id")],
    item: Annotated[str, typer.Option(help="column holding the item id")],
    timestamp: Annotated[str, typer.Option(help="column holding the time (ISO 8601 or epoch)")],
    event: Annotated[str | None, typer.Option(help="column holding the event type")] = None,
    rating: Annotated[str | None, typer.Option(help="column holding a rating")] = None,
    dwell: Annotated[str | None, typer.Option(help="column holding dwell seconds")] = None,
    request: Annotated[str | None, typer.Option(help="column holding a request/session id")] = None,
    device: Annotated[str | None, typer.Option(help="column holding the device")] = None,
    event_value: Annotated[
        list[str] | None, typer.Option(help="map a source event value: SRC=TYPE (repeatable)")
    ] = None,
) -> None:
    """Import real logs into the landing zone; users are pseudonymized before storage."""
    from engageflow.importer import ColumnMapping, ImportInputError
    from engageflow.importer import import_events as run

    pairs = dict(v.split("=", 1) for v in event_value or [] if "=" in v)
    mapping = ColumnMapping(user, item, timestamp, event, rating, dwell, request, device, pairs)
    try:
        done = run(get_settings(), source, mapping)
    except ImportInputError as err:
        console.print(f"[red]import failed, nothing was written:[/red] {err}")
        raise typer.Exit(2) from err
    console.print(f"imported {done.rows:,} rows as {done.events:,} events into:")
    for path in done.files:
        console.print(f"  {path}")


@app.command()
def ingest(
    day: Day,
    through: Annotated[str | None, typer.Option(help="last day, for a range")] = None,
) -> None:
    """Move landed days into the lake (what the `ingest_events` DAG runs, without Airflow)."""
    from expectations.ingest import ingest_catalog, ingest_events

    settings = get_settings()
    first = _day(day, "--day")
    last = _day(through, "--through") if through else first
    for offset in range((last - first).days + 1):
        current = first + timedelta(days=offset)
        ingest_catalog(settings, current)
        done = ingest_events(settings, current)
        console.print(f"{current}: {done.rows:,} events -> {done.path}")


@app.command()
def backfill(
    day: Day,
    through: Annotated[str | None, typer.Option(help="last day, for a range")] = None,
) -> None:
    """Ingest landed days and build their features, in order (ingest_events + build_features)."""
    from engageflow.errors import DataError
    from feature_repo.backfill import backfill as run

    first = _day(day, "--day")
    last = _day(through, "--through") if through else first
    days = [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
    try:
        done = run(get_settings(), days)
    except DataError as err:
        console.print(f"[red]backfill stopped:[/red] {err}")
        raise typer.Exit(2) from err
    console.print(f"ingested and built features for {len(done)} day(s): {first}..{last}")


@app.command()
def summary() -> None:
    """Print volume, click-through and good/bad engagement per ingested day."""
    from engageflow.summary import summarise

    frame = summarise(get_settings())
    if frame.empty:
        console.print("nothing ingested yet: run `engageflow simulate` and `engageflow ingest`")
        raise typer.Exit(1)
    table = Table(title="engagement by day (lake/events)")
    for column in frame.columns:
        if column == "day":
            table.add_column(column, no_wrap=True, min_width=10)
        else:
            table.add_column(column, justify="right")
    for row in frame.itertuples(index=False):
        table.add_row(
            str(row.day),
            *(f"{v:,}" for v in (row.events, row.impressions, row.users, row.items)),
            *(f"{v:.2%}" for v in (row.ctr, row.good_rate, row.bad_rate)),
        )
    console.print(table)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def airflow(ctx: typer.Context) -> None:
    """Run an `airflow` command against this project's Airflow home, e.g. `dags list`."""
    from dags.support.auth import run_airflow

    result = run_airflow(get_settings(), *ctx.args, check=False)
    raise typer.Exit(result.returncode)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def feast(ctx: typer.Context) -> None:
    """Run a `feast` command on feature_repo/ with this project's stores, e.g. `plan`, `apply`."""
    from feature_repo.store import run_feast

    result = run_feast(get_settings(), *ctx.args, check=False)
    raise typer.Exit(result.returncode)


@app.command("feast-env")
def feast_env() -> None:
    """Print `export` lines for the plain `feast -c feature_repo ...` CLI: `eval "$(...)"`."""
    import shlex

    from feature_repo.store import feast_env as env

    for name, value in env(get_settings()).items():
        print(f"export {name}={shlex.quote(value)}")


features_app = typer.Typer(no_args_is_help=True, help="Show a user's or an item's online features.")
app.add_typer(features_app, name="features")


def _show_features(entity: str, key: str) -> None:
    from feature_repo.online import entity_features

    by_view = entity_features(get_settings(), entity, key)
    if all(value is None for values in by_view.values() for value in values.values()):
        console.print(
            f"no online features for {entity} {key!r}: unknown id, or not materialized yet "
            "(run the build_features DAG)"
        )
        raise typer.Exit(1)
    table = Table(title=f"online features of {entity} {key}")
    table.add_column("view", no_wrap=True)
    table.add_column("feature", no_wrap=True)
    table.add_column("value", justify="right")
    for view, values in by_view.items():
        for name, value in values.items():
            table.add_row(view, name, _readable(value))
    console.print(table)


def _readable(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        head = ", ".join(f"{v:.3f}" for v in value[:4])
        return f"[{head}{', ...' if len(value) > 4 else ''}] ({len(value)})"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


@features_app.command("user")
def features_user(user_id: Annotated[str, typer.Argument(help="the user id")]) -> None:
    """A user's engagement stats and topic affinities, as served."""
    _show_features("user", user_id)


@features_app.command("item")
def features_item(item_id: Annotated[str, typer.Argument(help="the item id")]) -> None:
    """An item's engagement stats, profile and embedding, as served."""
    _show_features("item", item_id)


@app.command()
def demo(
    days: Annotated[int, typer.Option(min=6, help="simulated days; the drift comes mid-way")] = 8,
    fresh: Annotated[bool, typer.Option(help="wipe an earlier demo's data dir first")] = False,
) -> None:
    """Start the local stack and run the closed loop over simulated days, with a drift."""
    from engageflow.app.demo import DemoError, run_demo

    try:
        run_demo(get_settings(), days, console, fresh)
    except DemoError as err:
        console.print(f"[red]{err}[/red]")
        raise typer.Exit(2) from None


ui = typer.Typer(no_args_is_help=True, help="Web UIs of the platform's tools.")
app.add_typer(ui, name="ui")


@ui.command("monitoring")
def ui_monitoring(
    port: Annotated[int | None, typer.Option(help="port (default: settings.monitoring)")] = None,
) -> None:
    """Serve the Evidently UI (dashboards, reports) over the monitoring workspace."""
    import subprocess

    from monitoring.ui import prepare, ui_command

    settings = get_settings()
    project_id = prepare(settings)
    command = ui_command(settings, port)
    where = f"http://{settings.monitoring.ui_host}:{port or settings.monitoring.ui_port}"
    console.print(f"dashboard: {where}/projects/{project_id}")
    raise typer.Exit(subprocess.run(command, check=False).returncode)


@app.command()
def monitor(day: Day) -> None:
    """Monitor one day against the champion now (what the monitor_drift DAG runs)."""
    from monitoring.daily import monitor_day

    summary = monitor_day(get_settings(), _day(day, "--day"))
    verdict = summary["verdict"]
    console.print(
        f"{summary['day']}: {'DRIFT' if verdict['drift'] else 'ok'} ({verdict['reason']})"
    )
    console.print(f"A/B: {summary['ab']['decision']} ({summary['ab']['reason']})")
    console.print(f"reports: {summary['folder']}")


def _stack_table(rows: list) -> Table:
    table = Table(title="engageflow stack")
    for column in ("service", "running", "healthy", "pid", "url"):
        table.add_column(column, no_wrap=True)
    for row in rows:
        mark = {True: "[green]yes[/green]", False: "[red]no[/red]"}
        pid = "-" if row.pid is None else str(row.pid)
        table.add_row(row.name, mark[row.running], mark[row.healthy], pid, row.url)
    return table


@app.command()
def up(
    timeout: Annotated[float, typer.Option(help="seconds to wait for health")] = 300.0,
) -> None:
    """Start Airflow (with a Celery worker on the CeleryExecutor), MLflow, the ranker and the
    Evidently UI locally; wait until healthy."""
    import time

    from dags.support.auth import passwords_file
    from engageflow.app.stack import StackError
    from engageflow.app.stack import up as start

    settings = get_settings()
    began = time.monotonic()
    try:
        rows = start(settings, timeout)
    except StackError as err:
        console.print(
            f"[red]the stack did not come up[/red] (what this run started is stopped):\n{err}"
        )
        raise typer.Exit(1) from err
    console.print(_stack_table(rows))
    console.print(
        f"healthy in {time.monotonic() - began:.0f} s; logs in {settings.root / 'stack' / 'logs'}"
    )
    console.print(f"Airflow login: admin, password in {passwords_file(settings)}")


@app.command()
def down() -> None:
    """Stop exactly the processes `engageflow up` started (recorded in <data_dir>/stack)."""
    from engageflow.app.stack import down as stop

    stopped = stop(get_settings())
    console.print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")


@app.command()
def status() -> None:
    """Each service of the local stack: running, healthy, URL (exit 1 unless all healthy)."""
    from engageflow.app.stack import status as check

    rows = check(get_settings())
    console.print(_stack_table(rows))
    raise typer.Exit(0 if all(row.healthy for row in rows) else 1)


Reason = Annotated[str, typer.Option(help="why: kept in the alias history")]
Actor = Annotated[str | None, typer.Option(help="who moves the alias (default: your login)")]


def _actor(actor: str | None) -> str:
    import getpass

    return actor or getpass.getuser()


@model.command("train")
def model_train(
    end: Annotated[str | None, typer.Option(help="last test day (default: newest in lake)")] = None,
) -> None:
    """Train, evaluate, register a challenger and run the promotion gate (no Airflow)."""
    from engageflow.errors import DataError
    from training.pipeline import run_all
    from training.windows import latest_window

    settings = get_settings()
    try:
        last = _day(end, "--end") if end else latest_window(settings).test_end
        done = run_all(settings, last)
    except DataError as err:
        console.print(f"[red]training failed:[/red] {err}")
        raise typer.Exit(2) from err
    console.print(f"registered version {done['version']} as challenger")
    console.print(("promoted: " if done["promote"] else "refused: ") + "; ".join(done["reasons"]))


@model.command("promote")
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


@model.command("rollback")
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


@model.command("history")
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


def main() -> None:
    app()
