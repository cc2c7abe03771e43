"""Test-only stand-in for `train_ranker`, a target for monitor_drift's trigger when dags/ has
none yet. It is only registered in the test Airflow DB, never run."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, task


@dag(dag_id="train_ranker", schedule=None, start_date=datetime(2026, 1, 1), tags=["engageflow"])
def train_ranker_stub() -> None:
    @task(owner="engageflow", retries=1)
    def train(**context) -> dict:
        return dict(context["dag_run"].conf)

    train()


train_ranker_stub()
