"""Backfill on the running stack: `airflow backfill create` over three days fills the lake and
the quarantine byte for byte as day-by-day runs do (embedded: SQLite, the path README gives for
it), and on PostgreSQL, where Airflow supports the REST/UI backfill under concurrent access
(on SQLite it may answer 503 "Backfill creation is not supported on SQLite under concurrent
access"), a backfill and a reprocessing backfill over REST rewrite the same bytes: no duplicates.

With the daily clock on and catchup off, the scheduler also makes ingest_events' run for the
latest real interval (yesterday, UTC). Nothing landed for that day, so it fails without writing;
it is a "scheduled" run, and the assertions only look at runs of run_type "backfill" (and at
every file in the lake, which holds the backfilled days only).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from bad_landings import BAD_INPUTS, SAMPLE, good_events
from stack_world import production_stack, running_stack, stack_settings

from dags.support.auth import run_airflow
from dags.support.rest import AirflowClient, AirflowError
from engageflow import lake
from engageflow.app.simulate import simulate
from engageflow.settings import Settings, child_env
from engageflow.simulator import POLICIES
from expectations.quarantine import REPORT_FILE

# A stack start and a backfill of several days: past the suite's 600 s on a busy 2-core machine.
pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.timeout(1500)]

DAG = "ingest_events"
DAYS = [date(2026, 1, 1) + timedelta(days=n) for n in range(3)]
BAD_DAY = DAYS[1]  # a few rows with null users planted here: quarantined, the run passes
BAD = BAD_INPUTS["nulls"]
# Paused before the scheduler starts, so their clocks and assets start nothing here.
UNUSED = ("build_features", "monitor_drift", "train_ranker", "simulate_traffic")
REDIS_DB = 14  # the PostgreSQL stack's own Redis database (Feast online), flushed before/after


def _land(settings: Settings) -> int:
    """The three days with the random policy, bad rows planted in one; the rows landed."""
    rows = sum(day.rows for day in simulate(settings, len(DAYS), POLICIES["random"], DAYS[0]))
    folder = lake.partition_dir(settings.root, "landing", "events", BAD_DAY)
    BAD.plant(folder, good_events(settings.root, BAD_DAY), BAD_DAY)
    return rows + SAMPLE  # the planted file holds SAMPLE rows


def _lake_files(root: Path) -> dict[str, bytes]:
    """Every lake partition file and quarantined-rows file, by path under the data dir."""
    files = [*(root / "lake").rglob("*.parquet"), *(root / "quarantine").rglob("*.parquet")]
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(files)}


def _quarantine_reports(root: Path) -> dict[str, dict]:
    """Each quarantined day's report.json (counts, files, failed checks), by folder."""
    reports = sorted((root / "quarantine").rglob(REPORT_FILE))
    return {str(path.parent.relative_to(root)): json.loads(path.read_text()) for path in reports}


def _backfill_runs(airflow: AirflowClient) -> list[dict]:
    """The backfill's runs of the DAG (not the scheduler's own run for the real clock)."""
    runs = [run for run in airflow.runs(DAG) if run["run_type"] == "backfill"]
    return sorted(runs, key=lambda run: run["data_interval_start"])


def _interval_day(run: dict) -> date:
    start = datetime.fromisoformat(run["data_interval_start"])
    assert datetime.fromisoformat(run["data_interval_end"]) - start == timedelta(days=1)
    return start.date()


def _report(what: str, backfill: dict) -> None:
    """How long the backfill took, from creation to complete (shown with `pytest -s`)."""
    took = datetime.fromisoformat(backfill["completed_at"]) - datetime.fromisoformat(
        backfill["created_at"]
    )
    print(f"{what} of {len(DAYS)} days: {took.total_seconds():.0f} s")


@contextmanager
def _started(settings: Settings) -> Iterator[Settings]:
    """The three days landed and the stack up on `settings`, daily clock on; `down` after."""
    _land(settings)
    # Pausing after `up` would race the scheduler, which makes clock runs as soon as a DAG is
    # parsed (simulate_traffic's would land today's real date).
    run_airflow(settings, "db", "migrate")
    run_airflow(settings, "dags", "reserialize")
    pattern = f"^({'|'.join(UNUSED)})$"
    run_airflow(settings, "dags", "pause", "--treat-dag-id-as-regex", "-y", pattern)
    with running_stack(settings, timeout=400, only=("airflow",)):  # no ranker, MLflow or UI
        yield settings


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Data dir A: the embedded stack (SQLite) on free ports."""
    data = tmp_path_factory.mktemp("backfill") / "data"
    with _started(stack_settings(data, airflow={"schedule": "@daily"})) as settings:
        yield settings


@pytest.fixture(scope="module")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """The production profile: Airflow on a fresh PostgreSQL database, its own Redis db."""
    data = tmp_path_factory.mktemp("backfill-pg") / "data"
    with (
        production_stack(data, REDIS_DB, airflow={"schedule": "@daily"}) as settings,
        _started(settings),
    ):
        yield settings


@pytest.fixture(scope="module")
def rest_backfilled(postgres: Settings) -> dict[str, dict]:
    """The three days backfilled over REST (the UI's Backfill dialog) on PostgreSQL: runs by day."""
    with AirflowClient.from_settings(postgres) as airflow:
        created = airflow.backfill(DAG, DAYS[0], DAYS[-1])
        _report("REST backfill", airflow.wait_backfill(created["id"], timeout=600))
        runs = _backfill_runs(airflow)
        for run in runs:
            assert airflow.wait(DAG, run["dag_run_id"], timeout=10) == "success"
    return {_interval_day(run).isoformat(): run for run in runs}


@pytest.fixture(scope="module")
def backfilled(stack: Settings) -> dict[str, dict]:
    """The backfill of the three days through the CLI, finished: its runs by day."""
    # README's command: `engageflow airflow ...` runs the airflow CLI on the stack's home.
    engageflow = Path(sys.executable).with_name("engageflow")
    argv = [str(engageflow), "airflow", "backfill", "create", "--dag-id", DAG]
    argv += ["--from-date", DAYS[0].isoformat(), "--to-date", DAYS[-1].isoformat()]
    argv += ["--max-active-runs", "1"]  # one day at a time, in order: see README
    subprocess.run(argv, env=child_env(stack), check=True)
    with AirflowClient.from_settings(stack) as airflow:
        [backfill] = airflow.backfills(DAG)
        _report("CLI backfill", airflow.wait_backfill(backfill["id"], timeout=600))
        runs = _backfill_runs(airflow)
        for run in runs:  # raises with the failed tasks' logs
            assert airflow.wait(DAG, run["dag_run_id"], timeout=10) == "success"
        assert {
            ti["state"] for run in runs for ti in airflow.task_instances(DAG, run["dag_run_id"])
        } == {"success"}
    return {_interval_day(run).isoformat(): run for run in runs}


def test_backfill_gives_the_lake_and_quarantine_of_day_by_day_runs(
    backfilled: dict[str, dict], stack: Settings, dagbag, settings: Settings
) -> None:
    # One backfill run per day of the range, each owning that UTC day.
    assert list(backfilled) == [day.isoformat() for day in DAYS]

    # The scheduler's own run for the real clock (see the docstring) is none of these days.
    with AirflowClient.from_settings(stack) as airflow:
        others = [run for run in airflow.runs(DAG) if run["run_type"] != "backfill"]
    assert all(run["run_type"] == "scheduled" for run in others), others
    assert not {_interval_day(run) for run in others} & set(DAYS)

    # Data dir B: the same landing zone, one ingest_events run per day, oldest first.
    landed = _land(settings)
    for day in DAYS:
        end = datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC)
        assert dagbag.get_dag(DAG).test(logical_date=end).state == "success"

    backfill, by_day = _lake_files(stack.root), _lake_files(settings.root)
    assert sorted(backfill) == sorted(by_day)
    assert [name for name in backfill if name.startswith("lake/events/")] == [
        f"lake/events/date={day}/{lake.PART_FILE}" for day in DAYS
    ]
    assert {name for name, data in backfill.items() if data != by_day[name]} == set()

    # The quarantine agrees too: only the planted rows, counted the same way.
    reports = _quarantine_reports(stack.root)
    assert reports == _quarantine_reports(settings.root)
    assert list(reports) == [f"quarantine/events/date={BAD_DAY}"]
    rows = lake.read_partition(stack.root, "quarantine", "events", BAD_DAY).num_rows
    assert rows == reports[f"quarantine/events/date={BAD_DAY}"]["rows_quarantined"] == BAD.bad_rows
    lake_rows = sum(lake.read_partition(stack.root, "lake", "events", d).num_rows for d in DAYS)
    assert lake_rows + rows == landed


def test_a_reprocessing_backfill_over_rest_rewrites_the_same_bytes(
    rest_backfilled: dict[str, dict], postgres: Settings
) -> None:
    stack, backfilled = postgres, rest_backfilled
    assert list(backfilled) == [day.isoformat() for day in DAYS]
    before = _lake_files(stack.root)
    written = {
        day: lake.partition_files(stack.root, "lake", "events", day)[0].stat().st_mtime_ns
        for day in DAYS
    }
    with AirflowClient.from_settings(stack) as airflow:
        created = airflow.backfill(DAG, DAYS[0], DAYS[-1], reprocess="completed")
        assert created["reprocess_behavior"] == "completed"
        _report("reprocessing backfill", airflow.wait_backfill(created["id"], timeout=600))
        runs = {_interval_day(run).isoformat(): run for run in _backfill_runs(airflow)}
        for run in runs.values():
            assert airflow.wait(DAG, run["dag_run_id"], timeout=10) == "success"
    # The same runs, cleared and run again (not new ones), later than the first time.
    assert {day: run["dag_run_id"] for day, run in runs.items()} == {
        day: run["dag_run_id"] for day, run in backfilled.items()
    }
    ended = {day: datetime.fromisoformat(run["end_date"]) for day, run in runs.items()}
    assert all(ended[day] > datetime.fromisoformat(backfilled[day]["end_date"]) for day in ended)
    # Every day's partition was rewritten, to the same bytes: nothing added, nothing lost.
    assert all(
        lake.partition_files(stack.root, "lake", "events", day)[0].stat().st_mtime_ns > written[day]
        for day in DAYS
    )
    assert _lake_files(stack.root) == before
    events = pa.concat_tables(lake.read_partition(stack.root, "lake", "events", d) for d in DAYS)
    assert pc.count_distinct(events["event_id"]).as_py() == events.num_rows


def test_a_reversed_range_is_refused_and_creates_nothing(
    rest_backfilled: dict[str, dict], postgres: Settings
) -> None:
    with AirflowClient.from_settings(postgres) as airflow:
        before = airflow.backfills(DAG)
        with pytest.raises(AirflowError, match="must not be after"):
            airflow.backfill(DAG, DAYS[-1], DAYS[0])
        assert airflow.backfills(DAG) == before
