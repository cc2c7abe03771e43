"""The closed loop, one simulated day at a time, driven through Airflow's REST API.

A day starts with a `simulate_traffic` run; the assets it updates start `ingest_events`, then
`build_features` and `monitor_drift`, which may start `train_ranker`. The driver waits until all
of them are done and the service serves the registry's champion, so the next day's slates come
from the model the loop just chose. `make demo` and the closed-loop e2e test both run this.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import date

from dags.support.rest import AirflowClient
from engageflow.polling import poll
from engageflow.settings import Settings
from engageflow.summary import day_summary

SOURCE_DAG = "simulate_traffic"
# What a new day in the lake sets off (via assets), each finished before the next day starts.
DOWNSTREAM_DAGS = ("ingest_events", "build_features", "monitor_drift")
TRAIN_DAG = "train_ranker"
ACTIVE = {"queued", "running", "restarting", "up_for_retry", "scheduled"}


class LoopError(RuntimeError):
    """A day of the loop did not complete; the message names the run and where its logs are."""


@dataclass(frozen=True)
class DayReport:
    """What one day of the loop did, read back from the lake, the registry and monitoring."""

    day: date
    events: int
    quarantined: int
    champion: int | None
    challenger: int | None  # the version the canary serves from the next day
    auc: float | None
    good_rate: float
    bad_rate: float
    drift: bool | None
    retrain: str | None  # the train_ranker run monitor_drift started for this day, if any
    ab: str | None  # the day's A/B readout of canary vs champion, when a canary served

    def to_dict(self) -> dict:
        return {**asdict(self), "day": self.day.isoformat()}


def run_loop(
    settings: Settings,
    client: AirflowClient,
    days: Iterable[date],
    on_step: Callable[[date, str], None] = lambda day, step: None,
    timeout: float = 900.0,
) -> list[DayReport]:
    """Run the loop over `days` in order; one report per day."""
    return [run_day(settings, client, day, on_step, timeout) for day in days]


def run_day(
    settings: Settings,
    client: AirflowClient,
    day: date,
    on_step: Callable[[date, str], None] = lambda day, step: None,
    timeout: float = 900.0,
) -> DayReport:
    """Simulate `day` through the service, then wait for every run it sets off."""
    before = {dag: _run_ids(client, dag) for dag in (*DOWNSTREAM_DAGS, TRAIN_DAG)}
    on_step(day, SOURCE_DAG)
    run_id = client.trigger(SOURCE_DAG, conf={"day": day.isoformat()})["dag_run_id"]
    _expect_success(client, SOURCE_DAG, run_id, timeout)
    deadline = time.monotonic() + timeout
    for dag in DOWNSTREAM_DAGS:
        on_step(day, dag)
        for new in _new_runs(client, dag, before[dag], deadline):
            _expect_success(client, dag, new, deadline - time.monotonic())
    retrain = _trigger_run_id(settings, day)
    if retrain is not None:
        on_step(day, TRAIN_DAG)
        _expect_success(client, TRAIN_DAG, retrain, deadline - time.monotonic())
    on_step(day, "serving")
    wait_until_served(settings, deadline - time.monotonic())
    return day_report(settings, day, retrain)


def _run_ids(client: AirflowClient, dag_id: str) -> set[str]:
    return {run["dag_run_id"] for run in client.runs(dag_id)}


def _new_runs(client: AirflowClient, dag_id: str, before: set[str], deadline: float) -> list[str]:
    """Runs of `dag_id` that appeared since `before`; waits for the scheduler to create one."""
    return poll(
        lambda: [
            run["dag_run_id"] for run in client.runs(dag_id) if run["dag_run_id"] not in before
        ],
        timeout=deadline - time.monotonic(),
        every=1.0,
        on_timeout=lambda _: LoopError(
            f"no {dag_id} run appeared: is the scheduler running (`engageflow status`), "
            f"and is {dag_id} unpaused?"
        ),
    )


def _expect_success(client: AirflowClient, dag_id: str, run_id: str, timeout: float) -> None:
    """Wait for the run; a failed run raises DagRunFailed with its failed tasks' log tails."""
    state = client.wait(dag_id, run_id, timeout=max(timeout, 1.0), poll=1.0)
    if state != "success":
        raise LoopError(
            f"{dag_id} run {run_id} ended {state}: see its task logs in the Airflow UI "
            f"(Dags → {dag_id} → {run_id})"
        )


def _trigger_run_id(settings: Settings, day: date) -> str | None:
    """The train_ranker run monitor_drift recorded for `day` (monitoring/triggers.py)."""
    from monitoring.triggers import triggers_dir

    record = triggers_dir(settings) / f"{day.isoformat()}.json"
    return json.loads(record.read_text())["run_id"] if record.is_file() else None


def wait_until_served(settings: Settings, timeout: float) -> int | None:
    """Block until the service serves the registry's champion and challenger (the canary) on
    item tables that hold every view's latest materialization, so the next day's slates do not
    depend on when a cache expired; returns the champion's version."""
    from engageflow.registry import alias_version
    from feature_repo.store import feature_store, materialized_through
    from serving.auth import api_key
    from serving.http_policy import wait_until_serving

    champion = alias_version(settings, "champion")
    url = f"http://{settings.serving.host}:{settings.serving.port}"
    wait_until_serving(
        url,
        champion,
        api_key(settings.serving),
        max(timeout, 1.0),
        challenger=alias_version(settings, "challenger"),
        features_through=materialized_through(feature_store(settings)),
    )
    return champion


def day_report(settings: Settings, day: date, retrain: str | None) -> DayReport:
    """The day's line of the loop's summary table."""
    from engageflow.registry import alias_version, version_metric

    summary = day_summary(settings, day)
    champion = alias_version(settings, "champion")
    return DayReport(
        day=day,
        events=summary["events"],
        quarantined=quarantined_rows(settings, day),
        champion=champion,
        challenger=alias_version(settings, "challenger"),
        auc=None if champion is None else version_metric(settings, champion, "auc"),
        good_rate=summary["good_rate"],
        bad_rate=summary["bad_rate"],
        drift=drift_verdict(settings, day),
        retrain=retrain,
        ab=ab_line(settings, day),
    )


def ab_line(settings: Settings, day: date) -> str | None:
    """The day's A/B decision and good-rate difference (canary minus champion), if a canary
    served a challenger that day."""
    from engageflow.errors import DataError
    from monitoring.promotion import read_readout

    try:
        readout = read_readout(settings, day)
    except DataError:  # not monitored (no champion yet)
        return None
    if not readout.get("versions", {}).get("canary"):
        return None
    difference = readout["difference"]  # NaN (as written) or null when an arm had < 2 users
    shown = "n/a" if difference is None or difference != difference else f"{difference:+.2%}"
    return f"{readout['decision']} ({shown}, day {readout['days']})"


def quarantined_rows(settings: Settings, day: date) -> int:
    """Rows of the day's events held back by the data-quality gate."""
    from expectations.quarantine import REPORT_FILE, quarantine_dir

    report = quarantine_dir(settings.root, "events", day) / REPORT_FILE
    return int(json.loads(report.read_text()).get("rows_quarantined", 0)) if report.is_file() else 0


def drift_verdict(settings: Settings, day: date) -> bool | None:
    """monitor_drift's verdict for the day, None when it did not monitor (no champion yet)."""
    from monitoring.stored import stored_verdict

    verdict = stored_verdict(settings, day) or {}
    return verdict.get("drift")
