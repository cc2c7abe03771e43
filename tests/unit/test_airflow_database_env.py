"""Airflow's [database] options per database: SQLite waits for locks, PostgreSQL gets none of
pysqlite's options even when the env it inherits came from a SQLite run."""

from __future__ import annotations

import importlib
from pathlib import Path

from dags.support.env import airflow_env
from engageflow.settings import Settings

PG = "postgresql+psycopg2://postgres@127.0.0.1:5432/engageflow_airflow"


def _connect_args(env: dict[str, str]) -> dict:
    module, name = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS"].rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


def test_sqlite_waits_a_minute_for_a_lock(tmp_path: Path) -> None:
    env = airflow_env(Settings(data_dir=tmp_path))
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("sqlite:///")
    assert _connect_args(env)["timeout"] == 60


def test_postgresql_gets_no_sqlite_options_and_a_psycopg_async_url(tmp_path: Path) -> None:
    env = airflow_env(Settings(data_dir=tmp_path, airflow={"sql_alchemy_conn": PG}))
    assert "timeout" not in _connect_args(env)
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"] == (
        "postgresql+psycopg://postgres@127.0.0.1:5432/engageflow_airflow"
    )
