"""The CeleryExecutor's settings: what it refuses, the [celery] config Airflow reads from them,
and the worker the local stack adds for it."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import pytest
from pydantic import ValidationError

from dags.support.env import airflow_env
from engageflow.app.stack.celery_worker import WORKER, node_name, worker_answers
from engageflow.app.stack.services import airflow_services
from engageflow.settings import Settings, child_env

METADATA = "postgresql+psycopg2://airflow:hunter2@db.example:5432/airflow"


def _celery(tmp_path, **celery: object) -> Settings:
    airflow = {"executor": "CeleryExecutor", "sql_alchemy_conn": METADATA, "celery": celery}
    return Settings(data_dir=tmp_path / "data", airflow=airflow)


def test_celery_needs_postgresql_and_redis_and_names_the_variables() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(airflow={"executor": "CeleryExecutor"})
    assert "ENGAGEFLOW_AIRFLOW__SQL_ALCHEMY_CONN=postgresql" in str(caught.value)
    secret_broker = "amqp://guest:s3cret@mq:5672//"
    with pytest.raises(ValidationError) as caught:
        Settings(
            airflow={
                "executor": "CeleryExecutor",
                "sql_alchemy_conn": "sqlite:////tmp/a.db",
                "celery": {"broker_url": secret_broker, "result_backend": "db+sqlite:///r.db"},
            }
        )
    message = str(caught.value)
    for var in (
        "ENGAGEFLOW_AIRFLOW__SQL_ALCHEMY_CONN",
        "ENGAGEFLOW_AIRFLOW__CELERY__BROKER_URL",
        "ENGAGEFLOW_AIRFLOW__CELERY__RESULT_BACKEND",
    ):
        assert var in message
    assert "s3cret" not in message  # URLs may hold passwords: never echoed
    # The LocalExecutor does not care about Celery's settings.
    assert Settings(airflow={"celery": {"broker_url": secret_broker}}).airflow.executor == (
        "LocalExecutor"
    )


def test_env_vars_choose_the_executor_and_the_broker(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.setenv("ENGAGEFLOW_AIRFLOW__EXECUTOR", "CeleryExecutor")
    monkeypatch.setenv("ENGAGEFLOW_AIRFLOW__SQL_ALCHEMY_CONN", METADATA)
    monkeypatch.setenv("ENGAGEFLOW_AIRFLOW__CELERY__BROKER_URL", "redis://redis:6379/2")
    monkeypatch.setenv("ENGAGEFLOW_AIRFLOW__CELERY__WORKER_CONCURRENCY", "3")
    settings = Settings(data_dir=tmp_path)
    assert settings.airflow.executor == "CeleryExecutor"
    assert settings.airflow.celery.broker_url == "redis://redis:6379/2"
    assert settings.airflow.celery.worker_concurrency == 3
    monkeypatch.setenv("ENGAGEFLOW_AIRFLOW__EXECUTOR", "KubernetesExecutor")
    with pytest.raises(ValidationError, match="executor"):
        Settings(data_dir=tmp_path)


def test_airflow_env_carries_the_executor_and_the_celery_config(tmp_path) -> None:
    env = airflow_env(_celery(tmp_path, worker_concurrency=3))
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://127.0.0.1:6379/1"
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"] == f"db+{METADATA}"  # default: metadata DB
    assert env["AIRFLOW__CELERY__WORKER_CONCURRENCY"] == "3"
    other = "db+postgresql+psycopg2://u@results:5432/celery"
    assert airflow_env(_celery(tmp_path, result_backend=other))[
        "AIRFLOW__CELERY__RESULT_BACKEND"
    ] == (other)
    local = airflow_env(Settings(data_dir=tmp_path / "local"))
    assert local["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert not [k for k in local if k.startswith("AIRFLOW__CELERY__")]


def test_the_celery_provider_reads_that_config(tmp_path) -> None:
    """Airflow's own Celery config, built in a fresh process from our env (it reads config once)."""
    settings = _celery(tmp_path, worker_concurrency=3)
    code = (
        "import json\n"
        "from airflow.configuration import conf\n"
        "from airflow.providers.celery.executors.default_celery import get_default_celery_config\n"
        "c = get_default_celery_config(conf)\n"
        "print(json.dumps({k: c[k] for k in ('broker_url', 'result_backend', "
        "'worker_concurrency')}))\n"
        "print(conf.get('core', 'executor'))\n"
    )
    env = {**child_env(settings), **airflow_env(settings)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    config, executor = done.stdout.strip().splitlines()[-2:]
    assert json.loads(config) == {
        "broker_url": "redis://127.0.0.1:6379/1",
        "result_backend": f"db+{METADATA}",
        "worker_concurrency": 3,
    }
    assert executor == "CeleryExecutor"


def test_the_stack_adds_a_worker_only_for_celery(tmp_path) -> None:
    local = [s.name for s in airflow_services(Settings(data_dir=tmp_path / "local"))]
    assert WORKER not in local
    settings = _celery(tmp_path, worker_hostname="w1@%h", worker_concurrency=2)
    (worker,) = [s for s in airflow_services(settings) if s.name == WORKER]
    assert worker.argv[1:] == [
        *("celery", "worker", "--skip-serve-logs"),
        *("--concurrency", "2", "--celery-hostname", "w1@%h"),
    ]
    assert worker.port is None and worker.health_url is None and worker.probe is not None
    assert worker.env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert node_name(settings) == f"w1@{socket.gethostname()}"
    assert worker.url == f"celery node w1@{socket.gethostname()}"


def test_the_worker_probe_says_no_quickly_when_nobody_answers() -> None:
    began = time.monotonic()
    assert not worker_answers("redis://127.0.0.1:1/0", "w1@nowhere")  # no broker there
    assert time.monotonic() - began < 5  # one try, not the broker's reconnect schedule
