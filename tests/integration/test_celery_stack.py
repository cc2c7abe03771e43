"""The CeleryExecutor for real: `engageflow up` on PostgreSQL with a Redis broker starts a Celery
worker, a DAG run triggered over REST runs its tasks on that worker, and `down` stops it."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import pytest
from stack_world import ingest_one_day_over_rest, listening, plain_url, ports, production_stack

from engageflow.app.stack import down, up
from engageflow.app.stack.celery_worker import WORKER, node_name
from engageflow.app.stack.record import load
from engageflow.app.stack.services import services
from engageflow.settings import Settings, child_env

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

REDIS_DB = 12  # this file's own Redis database (broker and Feast online), flushed before/after


@pytest.fixture
def celery_stack(tmp_path: Path) -> Iterator[Settings]:
    """The production profile with the CeleryExecutor; a node name no other worker has."""
    celery = {
        "broker_url": f"redis://127.0.0.1:6379/{REDIS_DB}",
        "worker_hostname": f"engageflow-{uuid.uuid4().hex[:8]}@%h",
        "worker_concurrency": 2,
    }
    airflow = {"executor": "CeleryExecutor", "celery": celery}
    with production_stack(tmp_path / "data", REDIS_DB, airflow) as settings:
        yield settings


def _celery_ids(settings: Settings, run_id: str) -> dict[str, str]:
    """Each task of the run -> the Celery task id the scheduler gave it (metadata DB)."""
    with psycopg.connect(plain_url(settings.airflow.sql_alchemy_conn)) as conn:
        rows = conn.execute(
            "SELECT task_id, external_executor_id FROM task_instance"
            " WHERE dag_id = 'ingest_events' AND run_id = %s",
            (run_id,),
        ).fetchall()
    return dict(rows)


def _results(settings: Settings, celery_ids: list[str], timeout: float = 60) -> dict[str, str]:
    """Celery task id -> final status, from the result backend's table (default: the metadata
    DB). Waits: the task instance is marked done before the Celery task returns."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(plain_url(settings.airflow.sql_alchemy_conn), autocommit=True) as conn:
        while True:
            rows = dict(
                conn.execute(
                    "SELECT task_id, status FROM celery_taskmeta WHERE task_id = ANY(%s)",
                    (celery_ids,),
                ).fetchall()
            )
            if len(rows) == len(celery_ids) and not {"PENDING", "STARTED"} & set(rows.values()):
                return rows
            if time.monotonic() > deadline:
                return rows
            time.sleep(1)


def _worker_health(settings: Settings) -> int:
    """The exit code of the worker's container health check, run with the stack's settings."""
    check = [sys.executable, "-m", "engageflow.app.stack.celery_worker"]
    return subprocess.run(check, env=child_env(settings), timeout=60).returncode


def test_a_dag_run_goes_through_a_real_celery_worker(celery_stack: Settings) -> None:
    settings, node = celery_stack, node_name(celery_stack)
    began = time.monotonic()
    rows = {row.name: row for row in up(settings, timeout=400)}  # raises unless all healthy
    up_seconds = time.monotonic() - began
    assert set(rows) == {s.name for s in services(settings)}, rows  # the worker among them
    assert WORKER in rows and all(row.running for row in rows.values()), rows
    assert rows[WORKER].healthy and rows[WORKER].url == f"celery node {node}"
    worker = load(settings)[WORKER]
    assert worker.pgid == worker.pid and "worker" in worker.argv
    assert _worker_health(settings) == 0  # it answers a ping over the broker

    began = time.monotonic()
    tasks = ingest_one_day_over_rest(settings)
    run_seconds = time.monotonic() - began
    print(f"\nCeleryExecutor: up {up_seconds:.1f} s, ingest_events run {run_seconds:.1f} s")

    # Each task instance was sent to Celery: the scheduler recorded a Celery task id for it...
    run_id = tasks[0]["dag_run_id"]
    celery_ids = _celery_ids(settings, run_id)
    assert set(celery_ids) == {ti["task_id"] for ti in tasks}
    assert all(celery_ids.values()), celery_ids
    assert {ti["queue"] for ti in tasks} == {"default"}  # the queue the worker consumes
    # ...the worker stored that task's result in the result backend...
    assert _results(settings, list(celery_ids.values())) == dict.fromkeys(
        celery_ids.values(), "SUCCESS"
    )
    # ...and ran it: its log names the Celery task id and the Airflow task.
    log = Path(worker.log).read_text(errors="replace")
    for task_id, celery_id in celery_ids.items():
        pattern = rf"\[{celery_id}\] Executing workload in Celery: .*task_id='{task_id}'"
        assert re.search(pattern, log), (task_id, celery_id)

    family = [psutil.Process(worker.pid), *psutil.Process(worker.pid).children(recursive=True)]
    assert len(family) > 1  # the prefork pool
    assert WORKER in down(settings)
    assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in family)
    assert _worker_health(settings) == 1
    assert not any(listening(port) for port in ports(settings))
