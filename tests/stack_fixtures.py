"""The local stack for tests: settings on free ports in a tmp data dir, started and stopped."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from small_world import SMALL_WORLD

from engageflow.airflow_api import AirflowClient, AirflowError
from engageflow.settings import Settings
from engageflow.stack import down, up
from serving.launch import free_port


def stack_settings(data_dir: Path, profile: str = "embedded", **sections: dict) -> Settings:
    """Settings for a stack of its own: every service on a free loopback port, the small world;
    `sections` add or override values per settings section."""
    values: dict[str, dict] = {
        "simulation": dict(SMALL_WORLD),
        "airflow": {"port": free_port()},
        "mlflow": {"port": free_port()},
        "serving": {"port": free_port()},
        "monitoring": {"ui_port": free_port()},
    }
    for name, extra in sections.items():
        values[name] = {**values.get(name, {}), **extra}
    return Settings(data_dir=data_dir, profile=profile, **values)


def stack_ports(settings: Settings) -> list[int]:
    """The ports the stack's services listen on."""
    return [
        settings.airflow.port,
        settings.mlflow.port,
        settings.serving.port,
        settings.monitoring.ui_port,
    ]


@contextmanager
def running_stack(settings: Settings, timeout: float = 400) -> Iterator[Settings]:
    """`engageflow up` for the block, `down` after it (also when up fails half-way)."""
    try:
        up(settings, timeout=timeout)
        yield settings
    finally:
        down(settings)


def wait_parsed(airflow: AirflowClient, dag_ids: list[str], timeout: float = 120) -> None:
    """Until the dag-processor has put every DAG in the database (a healthy stack may not yet
    have parsed them, and the API answers 404 for a DAG it does not know)."""
    deadline = time.monotonic() + timeout
    for dag_id in dag_ids:
        while True:
            try:
                airflow.dag(dag_id)
                break
            except AirflowError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
