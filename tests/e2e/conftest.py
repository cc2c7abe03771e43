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
