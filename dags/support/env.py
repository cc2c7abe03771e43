"""The environment that points Airflow at this project: its home, DAGs, database and limits."""

from __future__ import annotations

from pathlib import Path

from dags.support.compat import database_env
from dags.support.preload import preload_env
from engageflow.settings import Settings, settings_env

DAGS_FOLDER = Path(__file__).resolve().parent.parent


def airflow_env(settings: Settings) -> dict[str, str]:
    """Env vars for any Airflow command run on this project's behalf (dev: SQLite + Local;
    production: PostgreSQL, optionally the CeleryExecutor on Redis)."""
    home = settings.airflow_home
    conn = settings.airflow.sql_alchemy_conn or f"sqlite:///{home / 'airflow.db'}"
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": settings.airflow.executor,
        "AIRFLOW__CORE__PARALLELISM": str(settings.airflow.parallelism),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": conn,
        # Re-parse an unchanged DAG file every 5 minutes, not Airflow's 30 s: each parse is about
        # a second of CPU in a fresh process (the idle stack's largest consumer, beside /rank's
        # tail), and an edited file is parsed at once anyway (file_parsing_sort_mode mtime).
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "300",
        # Tasks read the same settings as the CLI that started them.
        **settings_env(settings),
    }
    env.update(database_env(conn))
    if settings.airflow.preload_task_modules:
        env.update(preload_env(DAGS_FOLDER))
    if settings.airflow.executor == "CeleryExecutor":
        env.update(celery_env(settings, conn))
    return env


def celery_env(settings: Settings, conn: str) -> dict[str, str]:
    """The [celery] config: broker, result backend (default: the metadata DB), concurrency."""
    celery = settings.airflow.celery
    return {
        "AIRFLOW__CELERY__BROKER_URL": celery.broker_url,
        "AIRFLOW__CELERY__RESULT_BACKEND": celery.result_backend or f"db+{conn}",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(celery.worker_concurrency),
    }
