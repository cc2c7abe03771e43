"""Run the platform: serve, the local stack (up, down, status), the demo, one day's monitoring."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from engageflow.app.cli.common import Day, console, parse_day
from engageflow.settings import get_settings

app = typer.Typer()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default: settings.serving.host")] = None,
    port: Annotated[int | None, typer.Option(help="default: settings.serving.port")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="default: settings")] = None,
) -> None:
    """Start the ranking service (`bentoml serve serving.service:Ranker`); Ctrl+C stops it."""
    import subprocess

    from serving.launch import serve_command, serve_env

    chosen = {"host": host, "port": port, "workers": workers}
    settings = get_settings(serving={k: v for k, v in chosen.items() if v is not None})
    command = serve_command(settings)
    console.print(f"serving on http://{settings.serving.host}:{settings.serving.port} (/docs)")
    raise typer.Exit(subprocess.run(command, env=serve_env(settings), check=False).returncode)


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


@app.command()
def monitor(day: Day) -> None:
    """Monitor one day against the champion now (what the monitor_drift DAG runs)."""
    from monitoring.daily import monitor_day

    summary = monitor_day(get_settings(), parse_day(day, "--day"))
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
    only: Annotated[
        list[str] | None,
        typer.Argument(
            help="services to start (default: all): airflow, mlflow, ranker, evidently-ui, "
            "or one Airflow component such as airflow-scheduler"
        ),
    ] = None,
    timeout: Annotated[float, typer.Option(help="seconds to wait for health")] = 300.0,
) -> None:
    """Start Airflow (with a Celery worker on the CeleryExecutor), MLflow, the ranker and the
    Evidently UI locally, or only the services named; wait until healthy."""
    import time

    from dags.support.auth import passwords_file
    from engageflow.app.stack import StackError
    from engageflow.app.stack import up as start

    settings = get_settings()
    began = time.monotonic()
    try:
        rows = start(settings, timeout, only or ())
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
