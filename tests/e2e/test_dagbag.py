"""Every DAG file imports cleanly, cheaply, and declares owners, retries and tags."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dags.support.env import DAGS_FOLDER

DAG_FILES = sorted(p for p in DAGS_FOLDER.glob("*.py") if not p.name.startswith("_"))
HEAVY = [
    "pandas",
    "pyarrow",
    "xgboost",
    "mlflow",
    "feast",
    "great_expectations",
    "evidently",
    "bentoml",
    "sklearn",
    "engageflow.simulator",
    "expectations.ingest",
]


def test_no_import_errors(dagbag) -> None:
    assert dagbag.import_errors == {}
    assert "ingest_events" in dagbag.dag_ids


def test_owners_retries_and_tags(dagbag) -> None:
    for dag_id, dag in dagbag.dags.items():
        assert "engageflow" in dag.tags, dag_id
        for task in dag.tasks:
            assert task.owner == "engageflow", (dag_id, task.task_id)
            assert task.retries >= 1, (dag_id, task.task_id)


@pytest.mark.parametrize("path", DAG_FILES, ids=[p.name for p in DAG_FILES])
def test_dag_files_do_no_heavy_imports_at_top_level(path, airflow_home) -> None:
    probe = (
        "import runpy, sys; runpy.run_path(sys.argv[1]); "
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    loaded = (
        subprocess.run(
            [sys.executable, "-c", probe, str(path)], capture_output=True, text=True, check=True
        )
        .stdout.strip()
        .splitlines()[-1:]
    )
    assert loaded in ([], [""]), f"{path.name} imports {loaded} at parse time"
