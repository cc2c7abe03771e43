"""The platform's own tools with this project's settings: airflow, feast, the Evidently UI."""

from __future__ import annotations

from typing import Annotated

import typer

from engageflow.app.cli.common import console
from engageflow.settings import get_settings

app = typer.Typer()


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def airflow(ctx: typer.Context) -> None:
    """Run an `airflow` command against this project's Airflow home, e.g. `dags list`."""
    from dags.support.auth import run_airflow_command

    raise typer.Exit(run_airflow_command(get_settings(), list(ctx.args)))


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def feast(ctx: typer.Context) -> None:
    """Run a `feast` command on feature_repo/ with this project's stores, e.g. `plan`, `apply`."""
    from feature_repo.store import run_feast

    result = run_feast(get_settings(), *ctx.args, check=False)
    raise typer.Exit(result.returncode)


@app.command("feast-env")
def feast_env() -> None:
    """Print `export` lines for the plain `feast -c feature_repo ...` CLI on these settings
    (writes <data_dir>/feast/feature_store.yaml): `eval "$(...)"`."""
    import shlex

    from feature_repo.store import feast_env as env

    for name, value in env(get_settings()).items():
        print(f"export {name}={shlex.quote(value)}")


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
