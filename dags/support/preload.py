"""Warm task processes: the scheduler's LocalExecutor workers start from a forkserver that has
already imported the stage modules the DAGs' tasks call, so a task forks with Feast, GX, MLflow,
XGBoost and Evidently loaded instead of importing them again (3 to 9 s each, every task).

Airflow 3.3's own switches do it (`[scheduler] mp_start_method = forkserver` and
`mp_forkserver_preload`); the module list is read off the DAG files, so a new task's imports
are preloaded without a list to keep in step. A module that fails to import there is skipped
by `multiprocessing` and imported by the task as before.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

STAGES = ("expectations", "feature_repo", "training", "monitoring", "engageflow")


@cache
def task_modules(dags_folder: Path) -> tuple[str, ...]:
    """The stage modules imported anywhere in the DAG files (task bodies included), sorted."""
    found = set()
    for path in sorted(dags_folder.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            absolute = isinstance(node, ast.ImportFrom) and node.module and node.level == 0
            if absolute and node.module.split(".")[0] in STAGES:
                found.add(node.module)
    return tuple(sorted(found))


def preload_env(dags_folder: Path) -> dict[str, str]:
    """The scheduler's [scheduler] options that preload `task_modules` for its task workers."""
    return {
        "AIRFLOW__SCHEDULER__MP_START_METHOD": "forkserver",
        "AIRFLOW__SCHEDULER__MP_FORKSERVER_PRELOAD": ",".join(task_modules(dags_folder)),
    }
