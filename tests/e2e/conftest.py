"""A real Airflow home (SQLite metadata DB) for the whole session, migrated once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def airflow_home() -> Path:
    """The home tests/conftest.py chose before Airflow was imported, with its DB migrated."""
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], check=True, capture_output=True)
    return Path(os.environ["AIRFLOW_HOME"])


@pytest.fixture(scope="session")
def dagbag(airflow_home: Path):
    from airflow.dag_processing.dagbag import DagBag

    from engageflow.airflow_env import DAGS_FOLDER

    return DagBag(dag_folder=str(DAGS_FOLDER))


@pytest.fixture(scope="session")
def drift_world(tmp_path_factory: pytest.TempPathFactory):
    """tests/monitoring_world.py's world, built once: (settings, champion version)."""
    from monitoring_world import build_world, world_settings

    settings = world_settings(tmp_path_factory.mktemp("drift-world") / "data")
    return settings, build_world(settings)
