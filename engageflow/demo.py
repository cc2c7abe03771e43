"""`make demo`: the loop as far as it exists, on embedded defaults (SQLite, local files)."""

from __future__ import annotations

import json
from datetime import timedelta

from rich.console import Console

from engageflow.airflow_env import run_airflow
from engageflow.settings import Settings
from engageflow.simulator import POLICIES, simulate


def run_demo(settings: Settings, days: int, console: Console) -> None:
    """Simulate `days`; run `ingest_events` and `build_features` per day, then `train_ranker`."""
    console.rule("simulate")
    for done in simulate(settings, days, POLICIES["random"]):
        console.print(f"{done.day}: {done.rows:,} events landed")
    console.rule("airflow db migrate")
    run_airflow(settings, "db", "migrate")
    first = settings.simulation.start
    for offset in range(days):
        day = first + timedelta(days=offset)
        console.rule(f"airflow dags test ingest_events ({day})")
        # A daily run's logical date is the end of the interval it processes.
        run_airflow(
            settings, "dags", "test", "ingest_events", (day + timedelta(days=1)).isoformat()
        )
        # A scheduler would start build_features from ingest_events' asset event; `dags test`
        # runs no scheduler, so the demo names the day in the conf instead.
        console.rule(f"airflow dags test build_features ({day})")
        conf = json.dumps({"day": day.isoformat()})
        run_airflow(settings, "dags", "test", "build_features", "--conf", conf)
    # Train on every day but the last two (validation, test), at most the configured window.
    train_days = max(1, min(settings.training.train_days, days - 2))
    last = first + timedelta(days=days - 1)
    console.rule(f"airflow dags test train_ranker (test day {last}, {train_days} train days)")
    run_airflow(
        settings,
        *("dags", "test", "train_ranker", (last + timedelta(days=1)).isoformat()),
        "--conf",
        json.dumps({"reason": "make demo"}),
        extra_env={"ENGAGEFLOW_TRAINING__TRAIN_DAYS": str(train_days)},
    )
