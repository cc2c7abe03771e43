"""The embedded MLflow store (SQLite in the data dir) opened by several processes at once, as
the ranker's workers do on a fresh data dir: each must get a working client."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from engageflow.registry import connect
from engageflow.settings import Settings

pytestmark = pytest.mark.integration


def _open(data_dir: str) -> None:
    client = connect(Settings(data_dir=data_dir))
    client.search_experiments(max_results=1)
    client.search_registered_models(max_results=1)


def test_processes_opening_a_new_store_together_all_succeed(tmp_path: Path) -> None:
    # Without the lock in `connect`, MLflow's migrations ran in every process at once and most
    # of them failed ("table runs already exists"): 9 of 12 in three rounds of four.
    spawn = multiprocessing.get_context("spawn")
    processes = [spawn.Process(target=_open, args=(str(tmp_path),)) for _ in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=180)
    assert [p.exitcode for p in processes] == [0, 0, 0, 0]
    assert (tmp_path / "mlflow" / "mlflow.db").exists()
