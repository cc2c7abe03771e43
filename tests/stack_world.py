"""Helpers for the local-stack tests: settings on free ports, throwaway PostgreSQL databases and
a Redis db for the production profile, and one ingest_events run triggered over REST."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg
import redis
from small_world import SMALL_WORLD

from dags.support.rest import AirflowClient, AirflowError
from engageflow import lake
from engageflow.app.simulate import simulate
from engageflow.app.stack import down, up
from engageflow.polling import poll
from engageflow.settings import Settings
from engageflow.simulator import POLICIES
from serving.launch import free_port

POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
DAY = date(2026, 1, 1)
# Only ingest_events runs here: its asset would start these, which other tests cover.
DOWNSTREAM = ("build_features", "monitor_drift", "train_ranker")


def stack_settings(data_dir: Path, profile: str = "embedded", **sections: dict) -> Settings:
    """Settings for a stack of its own: every service on a free loopback port, the small world;
    `sections` add or override values per settings section."""
    values: dict[str, dict] = {
        "simulation": dict(SMALL_WORLD),
        "airflow": {"port": free_port()},
        "mlflow": {"port": free_port()},
        "serving": {"port": free_port()},
        "collector": {"port": free_port()},
        "monitoring": {"ui_port": free_port()},
    }
    for name, extra in sections.items():
        values[name] = {**values.get(name, {}), **extra}
    return Settings(data_dir=data_dir, profile=profile, **values)


@contextmanager
def running_stack(
    settings: Settings, timeout: float = 400, only: tuple[str, ...] = ()
) -> Iterator[Settings]:
    """`engageflow up [only]` for the block, `down` after it (also when up fails half-way)."""
    try:
        up(settings, timeout=timeout, only=only)
        yield settings
    finally:
        down(settings)


def wait_parsed(airflow: AirflowClient, dag_ids: list[str], timeout: float = 120) -> None:
    """Until the dag-processor has put every DAG in the database (a healthy stack may not yet
    have parsed them, and the API answers 404 for a DAG it does not know)."""
    deadline = time.monotonic() + timeout
    for dag_id in dag_ids:  # 404 (an AirflowError) until parsed; the last one is raised
        poll(
            lambda dag_id=dag_id: airflow.dag(dag_id),
            timeout=deadline - time.monotonic(),
            transient=(AirflowError,),
        )


def ports(settings: Settings) -> list[int]:
    return [
        settings.airflow.port,
        settings.mlflow.port,
        settings.serving.port,
        settings.monitoring.ui_port,
    ]


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def plain_url(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as libpq takes it (no `+driver`)."""
    return url.replace("+psycopg2", "").replace("+psycopg", "")


@contextmanager
def production_stack(
    data_dir: Path, redis_db: int, airflow: dict[str, Any] | None = None
) -> Iterator[Settings]:
    """Production settings on fresh PostgreSQL databases (Airflow, MLflow, Feast registry) and
    Redis db `redis_db` (flushed before and after); afterwards `down`, then drop them."""
    names = {part: f"engageflow_stack_{part}_{uuid.uuid4().hex[:8]}" for part in ("af", "ml", "fs")}
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        for name in names.values():
            conn.execute(f'CREATE DATABASE "{name}"')
    client = redis.Redis(host="127.0.0.1", port=6379, db=redis_db)
    client.flushdb()
    url = "postgresql+{}://postgres@127.0.0.1:5432/{}"
    try:
        settings = stack_settings(
            data_dir,
            "production",
            airflow={"sql_alchemy_conn": url.format("psycopg2", names["af"]), **(airflow or {})},
            mlflow={"tracking_uri": url.format("psycopg2", names["ml"])},
            feast={
                "online_store": "redis",
                "redis_connection": f"127.0.0.1:6379,db={redis_db}",
                "registry_uri": url.format("psycopg", names["fs"]),
            },
            collector={"log": "redis", "redis_url": f"redis://127.0.0.1:6379/{redis_db}"},
        )
        try:
            yield settings
        finally:
            down(settings)
    finally:
        client.flushdb()
        client.close()
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            for name in names.values():
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def ingest_one_day_over_rest(settings: Settings) -> list[dict[str, Any]]:
    """Simulate a day, trigger ingest_events for it over REST, wait for the scheduler's run;
    the run's task instances, as the REST API shows them."""
    list(simulate(settings, 1, POLICIES["random"], DAY))
    with AirflowClient.from_settings(settings) as airflow:
        for dag_id in DOWNSTREAM:
            assert airflow.pause(dag_id)["is_paused"] is True
        run = airflow.trigger(
            "ingest_events", logical_date=DAY + timedelta(days=1), run_id=f"stack-{DAY}"
        )
        assert run["state"] == "queued" and run["run_type"] == "manual"
        assert airflow.wait("ingest_events", run["dag_run_id"], timeout=300) == "success"
        tasks = airflow.task_instances("ingest_events", run["dag_run_id"])
    assert tasks and {ti["state"] for ti in tasks} == {"success"}
    events = lake.read_partition(settings.root, "lake", "events", DAY)
    assert events.num_rows > 0
    return tasks
