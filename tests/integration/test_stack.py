"""`engageflow up | down | status` for real: every service as a local process on free ports, a
DAG run triggered over the REST API and run by the real scheduler, then `down` stops exactly
what `up` started. Embedded (SQLite) and production (PostgreSQL, Redis) profiles."""

from __future__ import annotations

import socket
import subprocess
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import psutil
import psycopg
import pytest
import redis
from stack_fixtures import running_stack, stack_ports, stack_settings

from engageflow import lake
from engageflow.airflow_api import AirflowClient, AirflowError
from engageflow.airflow_auth import airflow_credentials, passwords_file, secrets_dir
from engageflow.settings import Settings
from engageflow.simulator import POLICIES, simulate
from engageflow.stack import down, status, up
from engageflow.stack.record import load

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_DB = 13  # this file's own Redis database, flushed before and after
DAY = date(2026, 1, 1)
# Only ingest_events runs here: its asset would start these, which other tests cover.
DOWNSTREAM = ("build_features", "monitor_drift", "train_ranker")


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _ingest_one_day_over_rest(settings: Settings) -> None:
    """Simulate a day, trigger ingest_events for it over REST, wait for the scheduler's run."""
    list(simulate(settings, 1, POLICIES["random"], DAY))
    with AirflowClient.from_settings(settings) as airflow:
        for dag_id in DOWNSTREAM:
            assert airflow.pause(dag_id)["is_paused"] is True
        run = airflow.trigger(
            "ingest_events", logical_date=DAY + timedelta(days=1), run_id=f"stack-{DAY}"
        )
        assert run["state"] == "queued" and run["run_type"] == "manual"
        assert airflow.wait("ingest_events", run["dag_run_id"], timeout=300) == "success"
        assert {
            ti["state"] for ti in airflow.task_instances("ingest_events", run["dag_run_id"])
        } == {"success"}
    events = lake.read_partition(settings.root, "lake", "events", DAY)
    assert events.num_rows > 0


@pytest.fixture(scope="module")
def bystander() -> Iterator[subprocess.Popen]:
    """A process of our own in its own session: `down` must leave it alone."""
    proc = subprocess.Popen(["sleep", "600"], start_new_session=True)
    yield proc
    proc.kill()
    proc.wait()


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    with running_stack(stack_settings(tmp_path_factory.mktemp("stack") / "data")) as settings:
        yield settings


def test_up_starts_every_service_healthy_on_the_settings_ports(embedded: Settings) -> None:
    rows = {row.name: row for row in status(embedded)}
    assert set(rows) == {
        "airflow-api-server",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
        "mlflow",
        "ranker",
        "evidently-ui",
    }
    assert all(row.running and row.healthy for row in rows.values()), rows
    assert rows["mlflow"].url == f"http://127.0.0.1:{embedded.mlflow.port}"
    for port in stack_ports(embedded):
        (conn,) = [
            c
            for c in psutil.net_connections("tcp")
            if c.laddr.port == port and c.status == "LISTEN"
        ]
        assert conn.laddr.ip == "127.0.0.1"
    # Every process leads a group of its own, recorded with its start time.
    for record in load(embedded).values():
        assert record.pgid == record.pid and record.leader() is not None
        assert Path(record.log).is_file()


def test_secrets_are_private_and_never_logged(embedded: Settings) -> None:
    user, password = airflow_credentials(embedded)
    assert user == "admin" and len(password) >= 16
    for path in [*secrets_dir(embedded).iterdir(), passwords_file(embedded)]:
        assert path.stat().st_mode & 0o777 == 0o600, path
    secrets = [password, *(p.read_text().strip() for p in secrets_dir(embedded).glob("*secret*"))]
    logs = [p for p in (embedded.root / "stack").rglob("*.log")]
    logs += list((embedded.airflow_home / "logs").rglob("*.log"))
    for log in logs:
        text = log.read_text(errors="replace")
        assert not any(secret in text for secret in secrets), log


def test_the_rest_api_refuses_requests_without_a_valid_token(embedded: Settings) -> None:
    base = f"http://127.0.0.1:{embedded.airflow.port}"
    assert httpx.get(f"{base}/api/v2/dags", trust_env=False).status_code in (401, 403)
    headers = {"Authorization": "Bearer not-a-token"}
    assert httpx.get(f"{base}/api/v2/dags", headers=headers, trust_env=False).status_code in (
        401,
        403,
    )
    with AirflowClient(base, "admin", "wrong-password") as wrong, pytest.raises(AirflowError):
        wrong.token()


def test_a_dag_run_triggered_over_rest_succeeds_through_the_scheduler(embedded: Settings) -> None:
    _ingest_one_day_over_rest(embedded)


def test_up_again_starts_nothing(embedded: Settings) -> None:
    before = {name: r.pid for name, r in load(embedded).items()}
    up(embedded, timeout=60)
    assert {name: r.pid for name, r in load(embedded).items()} == before


def test_down_stops_exactly_what_up_started(
    embedded: Settings, bystander: subprocess.Popen
) -> None:
    records = load(embedded)
    procs = [psutil.Process(r.pid) for r in records.values()]
    family = procs + [child for p in procs for child in p.children(recursive=True)]
    assert sorted(down(embedded)) == sorted(records)
    gone = [p for p in family if not p.is_running() or p.status() == psutil.STATUS_ZOMBIE]
    assert gone == family
    assert not any(_listening(port) for port in stack_ports(embedded))
    assert bystander.poll() is None
    assert not any(row.running for row in status(embedded))


@pytest.fixture
def production(tmp_path: Path) -> Iterator[Settings]:
    """Fresh PostgreSQL databases for Airflow, MLflow and the Feast registry; Redis db 13."""
    names = {part: f"engageflow_stack_{part}_{uuid.uuid4().hex[:8]}" for part in ("af", "ml", "fs")}
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        for name in names.values():
            conn.execute(f'CREATE DATABASE "{name}"')
    client = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)
    client.flushdb()
    url = "postgresql+{}://postgres@127.0.0.1:5432/{}"
    settings = stack_settings(
        tmp_path / "data",
        "production",
        airflow={"sql_alchemy_conn": url.format("psycopg2", names["af"])},
        mlflow={"tracking_uri": url.format("psycopg2", names["ml"])},
        feast={
            "online_store": "redis",
            "redis_connection": f"127.0.0.1:6379,db={REDIS_DB}",
            "registry_uri": url.format("psycopg", names["fs"]),
        },
    )
    try:
        yield settings
    finally:
        down(settings)
        client.flushdb()
        client.close()
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            for name in names.values():
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_production_profile_on_postgresql_and_redis(production: Settings) -> None:
    rows = up(production, timeout=400)
    assert all(row.healthy for row in rows), rows
    with psycopg.connect(production.airflow.sql_alchemy_conn.replace("+psycopg2", "")) as conn:
        assert conn.execute("SELECT count(*) FROM dag").fetchone()[0] >= 1
    with psycopg.connect(production.mlflow.tracking_uri.replace("+psycopg2", "")) as conn:
        assert conn.execute("SELECT count(*) FROM experiments").fetchone()[0] >= 1
    _ingest_one_day_over_rest(production)
    stopped = down(production)
    assert len(stopped) == 7
    assert not any(_listening(port) for port in stack_ports(production))
