"""The modules the scheduler's forkserver preloads are read off the DAG files, task bodies
included, and each of them imports (multiprocessing would skip a broken one without a word)."""

from __future__ import annotations

import importlib
from pathlib import Path

from dags.support.env import DAGS_FOLDER, airflow_env
from dags.support.preload import task_modules
from engageflow.settings import Settings

DAG_FILE = """
from airflow.sdk import dag, task
from dags.support.runs import TAGS


@dag()
def example():
    @task
    def fit():
        from training.pipeline import fit_model
        from engageflow.settings import get_settings
        import xgboost
        from . import sibling
"""


def test_the_stage_modules_of_task_bodies_are_found_and_nothing_else(tmp_path: Path) -> None:
    (tmp_path / "example.py").write_text(DAG_FILE)
    (tmp_path / "notes.txt").write_text("from monitoring.daily import monitor_day")
    assert task_modules(tmp_path) == ("engageflow.settings", "training.pipeline")


def test_every_module_the_dags_use_is_preloaded_and_imports() -> None:
    modules = task_modules(DAGS_FOLDER)
    for stage in ("expectations", "feature_repo", "training", "monitoring"):
        assert any(m.startswith(f"{stage}.") for m in modules), stage
    for module in modules:
        importlib.import_module(module)


def test_the_scheduler_env_names_them_and_the_setting_turns_it_off(tmp_path: Path) -> None:
    env = airflow_env(Settings(data_dir=tmp_path))
    assert env["AIRFLOW__SCHEDULER__MP_START_METHOD"] == "forkserver"
    assert env["AIRFLOW__SCHEDULER__MP_FORKSERVER_PRELOAD"].split(",") == list(
        task_modules(DAGS_FOLDER)
    )
    off = airflow_env(Settings(data_dir=tmp_path, airflow={"preload_task_modules": False}))
    assert "AIRFLOW__SCHEDULER__MP_START_METHOD" not in off
