"""`engageflow up | down | status` for real: every service as a local process on free ports, a
DAG run triggered over the REST API and run by the real scheduler, then `down` stops exactly
what `up` started. Embedded (SQLite) and production (PostgreSQL, Redis) profiles."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import psutil
import psycopg
import pytest
from stack_world import (
    ingest_one_day_over_rest,
    listening,
    plain_url,
    ports,
    production_stack,
    running_stack,
    stack_settings,
)

from dags.support.auth import airflow_credentials, passwords_file, secrets_dir
from dags.support.rest import AirflowClient, AirflowError
from engageflow.app.stack import down, status, up
from engageflow.app.stack.record import load
from engageflow.app.stack.services import services
from engageflow.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

REDIS_DB = 13  # this file's own Redis database, flushed before and after


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
        "collector",
        "evidently-ui",
    }
    assert all(row.running and row.healthy for row in rows.values()), rows
    assert rows["mlflow"].url == f"http://127.0.0.1:{embedded.mlflow.port}"
    for port in ports(embedded):
        (conn,) = [
            c
            for c in psutil.net_connections("tcp")
            if c.laddr.port == port and c.status == "LISTEN"
        ]
        assert conn.laddr.ip == "127.0.0.1"
    # Every process leads a group of its own, recorded with its start time.
    records = load(embedded)
    for record in records.values():
        assert record.pgid == record.pid and record.leader() is not None
        assert Path(record.log).is_file()
    # The scheduler runs tasks, which call the api-server: it starts once that one answers.
    serving = next(
        line
        for line in Path(records["airflow-api-server"].log).read_text().splitlines()
        if "Uvicorn running on" in line
    )
    answered = datetime.fromisoformat(serving.split()[0].replace("Z", "+00:00")).timestamp()
    assert records["airflow-scheduler"].create_time >= answered


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


def _command(process: psutil.Process) -> str:
    """Its command line, or "" for a task process that exited (or is a zombie) meanwhile."""
    try:
        return " ".join(process.cmdline())
    except psutil.NoSuchProcess:  # ZombieProcess included
        return ""


def test_a_dag_run_triggered_over_rest_succeeds_through_the_scheduler(embedded: Settings) -> None:
    ingest_one_day_over_rest(embedded)
    # Its task forked from the scheduler's forkserver, which preloaded the tasks' stage modules.
    scheduler = psutil.Process(load(embedded)["airflow-scheduler"].pid)
    commands = [_command(child) for child in scheduler.children(recursive=True)]
    servers = [command for command in commands if "multiprocessing.forkserver" in command]
    assert len(servers) == 1 and "expectations.ingest" in servers[0], servers


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
    assert not any(listening(port) for port in ports(embedded))
    assert bystander.poll() is None
    assert not any(row.running for row in status(embedded))


@pytest.fixture
def production(tmp_path: Path) -> Iterator[Settings]:
    """Fresh PostgreSQL databases for Airflow, MLflow and the Feast registry; Redis db 13."""
    with production_stack(tmp_path / "data", REDIS_DB) as settings:
        yield settings


def test_production_profile_on_postgresql_and_redis(production: Settings) -> None:
    rows = up(production, timeout=400)
    assert all(row.healthy for row in rows), rows
    with psycopg.connect(plain_url(production.airflow.sql_alchemy_conn)) as conn:
        assert conn.execute("SELECT count(*) FROM dag").fetchone()[0] >= 1
    with psycopg.connect(plain_url(production.mlflow.tracking_uri)) as conn:
        assert conn.execute("SELECT count(*) FROM experiments").fetchone()[0] >= 1
    ingest_one_day_over_rest(production)
    stopped = down(production)
    assert sorted(stopped) == sorted(s.name for s in services(production))
    assert {"collector", "event-drainer"} <= set(stopped)  # the production log is Redis
    assert not any(listening(port) for port in ports(production))
