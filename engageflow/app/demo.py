"""`make demo`: the local stack on embedded defaults, then the closed loop over simulated days.

About a week with a drift event in the middle: the first champion is trained once enough days
exist, the drift is detected, a retrain is triggered and gated, and the next days are served
by the new champion. The stack keeps running afterwards (`make down` stops it).
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import tomli_w
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from engageflow.settings import Settings

# Small enough for a week in minutes on 2 cores, with enough requests a day that the first
# model beats popularity after its first train day (with 3,000 users and 1,500 requests it did
# not until day 6, the drift day). tests/e2e/test_closed_loop.py runs exactly this world.
DEMO_WORLD = {
    "users": 600,
    "items": 300,
    "topics": 6,
    "creators": 40,
    "new_items_per_day": 20,
    "new_users_per_day": 30,
    "requests_per_day": 1_000,
    "candidates": 30,
    "slate_size": 10,
}
DRIFTED_TOPICS = (0, 1, 2)
DRIFT_SHIFT = -3.0
MARKER = "DEMO"  # a data dir holding this file was made by the demo and may be wiped by it


class DemoError(RuntimeError):
    """The demo cannot start here; the message says what to do instead."""


def demo_overrides(start: date, days: int) -> dict[str, Any]:
    """The demo's settings: its world, a drift in the middle and windows that fit a week."""
    drift_day = start + timedelta(days=days // 2 + 1)
    drifts = [{"day": drift_day, "topic": t, "shift": DRIFT_SHIFT} for t in DRIFTED_TOPICS]
    return {
        "simulation": {
            **DEMO_WORLD,
            "drifts": drifts,
        },
        # Two train days: the first champion comes on day 4, the drift retrain right after the
        # drift; short feature windows fill up within the week.
        "training": {"train_days": 2},
        "feast": {"windows_days": [1, 3, 7]},
        # A 10% canary of 600 users never reaches the readout's `ab_min_users` (200) a day; an
        # even split does, and the gate has already checked the challenger offline.
        "serving": {"canary_share": 0.5},
        # Simulated days lie in the past: only the loop's own triggers and assets start runs.
        "airflow": {"schedule": "none"},
    }


def demo_settings(base: Settings, days: int) -> Settings:
    """`base` (env vars and files still apply) with the demo's overrides on top."""
    overrides = demo_overrides(base.simulation.start, days)
    return Settings(data_dir=base.data_dir, **overrides)


def write_config(settings: Settings, days: int) -> Path:
    """The demo's settings as a TOML file, so later CLI calls read the same (ENGAGEFLOW_CONFIG)."""
    path = settings.root / "engageflow.toml"
    overrides = demo_overrides(settings.simulation.start, days)
    path.write_text(tomli_w.dumps({"data_dir": str(settings.root), **overrides}))
    return path


def prepare_data_dir(settings: Settings, fresh: bool) -> None:
    """Start from an empty data dir; with `fresh`, wipe an earlier demo's (never other data)."""
    root: Path = settings.root
    if root.exists() and any(root.iterdir()):
        if not (fresh and (root / MARKER).is_file()):
            raise DemoError(
                f"{root} already holds data. The demo starts from an empty data dir: run "
                "`make clean` if that data is an earlier demo's, or set ENGAGEFLOW_DATA_DIR "
                "to another directory."
            )
        from engageflow.app import stack

        stack.down(settings)
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / MARKER).write_text("made by `engageflow demo`; `make clean` removes it\n")


def run_demo(base: Settings, days: int, console: Console, fresh: bool = False) -> list:
    """Start the stack, run the loop over `days` simulated days, print where to look."""
    from dags.support.rest import AirflowClient
    from engageflow.app import stack
    from engageflow.app.loop import run_day

    settings = demo_settings(base, days)
    if not console.is_terminal:
        console.width = max(console.width, 120)  # logs and CI: keep the summary table unsqueezed
    prepare_data_dir(settings, fresh)
    config = write_config(settings, days)
    with console.status("starting the local stack (Airflow, MLflow, BentoML, Evidently UI)"):
        stack.up(settings)
    user, password = stack.airflow_credentials(settings)
    client = AirflowClient.from_settings(settings)
    first = settings.simulation.start
    reports = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task("loop", total=days)
        for offset in range(days):
            day = first + timedelta(days=offset)

            def step(day: date, what: str) -> None:
                progress.update(task, description=f"{day}: {what}")

            reports.append(run_day(settings, client, day, step))
            progress.advance(task)
    console.print(summary_table(reports))
    console.print(where_to_look(settings, user, password))
    console.print(f"To query with the demo's settings: export ENGAGEFLOW_CONFIG={config}")
    return reports


def airflow_url(settings: Settings) -> str:
    return f"http://{settings.airflow.host}:{settings.airflow.port}"


def summary_table(reports: list) -> Table:
    """Per day: volume, quarantine, champion and its AUC, engagement, drift, retrain, and the
    challenger with its A/B readout."""
    table = Table(title="the loop, day by day")
    for name in ("day", "events", "quarantined", "champion", "AUC", "good", "bad", "drift"):
        table.add_column(name, justify="right")
    table.add_column("retrain")
    table.add_column("challenger", justify="right")
    table.add_column("A/B (canary - champion)")

    def fmt(value: float | None, spec: str) -> str:
        return "-" if value is None else format(value, spec)

    for r in reports:
        table.add_row(
            r.day.isoformat(),
            f"{r.events:,}",
            f"{r.quarantined:,}",
            "-" if r.champion is None else f"v{r.champion}",
            fmt(r.auc, ".3f"),
            f"{r.good_rate:.1%}",
            f"{r.bad_rate:.1%}",
            {None: "-", True: "DRIFT", False: "ok"}[r.drift],
            r.retrain or "",
            "-" if r.challenger is None else f"v{r.challenger}",
            r.ab or "",
        )
    return table


def where_to_look(settings: Settings, user: str, password: str) -> Table:
    """The UIs of the running stack, with the demo's Airflow login."""
    table = Table(title="where to look (the stack keeps running until `make down`)")
    table.add_column("what")
    table.add_column("URL")
    table.add_column("login")
    monitoring = settings.monitoring
    serving = settings.serving
    table.add_row("Airflow UI", airflow_url(settings), f"{user} / {password}")
    table.add_row("MLflow UI", f"http://{settings.mlflow.host}:{settings.mlflow.port}", "")
    table.add_row("Evidently UI", f"http://{monitoring.ui_host}:{monitoring.ui_port}", "")
    table.add_row("BentoML Swagger", f"http://{serving.host}:{serving.port}", "")
    return table
