"""Shared fixtures: every test gets its own data dir and a small, fast simulated world."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from small_world import SMALL_WORLD

from dags.support.env import airflow_env
from engageflow.settings import Settings

AIRFLOW_TMP = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    """Point Airflow at a throwaway home before anything imports it (it reads config once)."""
    home = Path(tempfile.mkdtemp(prefix="engageflow-airflow-"))
    env = airflow_env(Settings(data_dir=home / "data", airflow={"home": home / "home"}))
    # Only Airflow's own variables: each test points tasks at its own settings and data dir.
    os.environ.update({k: v for k, v in env.items() if k.startswith("AIRFLOW")})
    config.stash[AIRFLOW_TMP] = home


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(config.stash.get(AIRFLOW_TMP, None) or "/nonexistent", ignore_errors=True)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings on a fresh data dir; env vars point there too, for code that reads settings."""
    monkeypatch.chdir(tmp_path)
    for name in ("ENGAGEFLOW_CONFIG", "ENGAGEFLOW_PSEUDONYM_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ENGAGEFLOW_DATA_DIR", str(tmp_path / "data"))
    return Settings(data_dir=tmp_path / "data", simulation=SMALL_WORLD)
