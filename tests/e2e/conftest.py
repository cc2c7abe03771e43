"""A real Airflow home (SQLite metadata DB) for the whole session, migrated once."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from engageflow.airflow_env import airflow_env, run_airflow
from engageflow.settings import Settings


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point this process (for dag.test) and its children at a fresh, migrated Airflow home."""
    root = tmp_path_factory.mktemp("airflow")
    settings = Settings(data_dir=root / "data", airflow={"home": root / "home"})
    env = airflow_env(settings)
    env.pop("ENGAGEFLOW_DATA_DIR")  # each test points tasks at its own data dir
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    run_airflow(settings, "db", "migrate")
    yield settings.airflow_home
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def dagbag(airflow_home: Path):
    from airflow.dag_processing.dagbag import DagBag

    from engageflow.airflow_env import DAGS_FOLDER

    return DagBag(dag_folder=str(DAGS_FOLDER))
