"""What every engageflow DAG shares: default arguments, asset names, the run's day."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from airflow.sdk import ExceptionRetryPolicy, RetryAction, RetryRule

from engageflow.errors import DataError

# Retries are for flaky infrastructure; bad data fails at once with its message.
DEFAULT_ARGS: dict[str, Any] = {
    "owner": "engageflow",
    "retries": 2,
    "retry_delay": timedelta(minutes=1),
    "retry_policy": ExceptionRetryPolicy(
        rules=[
            RetryRule(
                exception="engageflow.errors.DataError",
                action=RetryAction.FAIL,
                reason="bad or missing data: retrying cannot fix it",
            )
        ]
    ),
}
TAGS = ["engageflow"]

# Asset names that join the stages (data-aware scheduling), see docs/architecture.md.
LAKE_EVENTS = "engageflow.lake.events"
FEATURES = "engageflow.features"


def interval_day(context: Mapping[str, Any]) -> date:
    """The UTC day a daily run owns: the start of its data interval, never `now()`."""
    start: datetime = context["data_interval_start"]
    end: datetime = context["data_interval_end"]
    if end - start != timedelta(days=1):
        raise ValueError(
            f"expected a one-day data interval, got [{start}, {end}); "
            "schedule with CronDataIntervalTimetable('@daily', timezone='UTC')"
        )
    return start.date()


def requested_days(context: Mapping[str, Any]) -> list[date]:
    """The days an asset-triggered run should process, oldest first.

    A manual run names one with the conf `{"day": "YYYY-MM-DD"}`; otherwise each triggering
    asset event names its day in its extra (ingest_events sets `{"day": ...}`).
    """
    dag_run = context.get("dag_run")
    conf = (getattr(dag_run, "conf", None) or {}) if dag_run is not None else {}
    if conf.get("day"):
        return [_parse_day(conf["day"], "run conf 'day'")]
    days = {
        _parse_day(event.extra["day"], f"asset event extra of {asset}")
        for asset, events in (context.get("triggering_asset_events") or {}).items()
        for event in events
        if (event.extra or {}).get("day")
    }
    if not days:
        raise BadRunConf(
            'no day to process: trigger with the conf {"day": "YYYY-MM-DD"} or from an asset '
            'event whose extra holds {"day": ...} (ingest_events sets it)'
        )
    return sorted(days)


class BadRunConf(DataError, ValueError):
    """A run's conf or params hold a bad value: retrying the same conf cannot fix it."""


def _parse_day(value: object, where: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError as err:
        raise BadRunConf(
            f"{where}: {value!r} is not a day like 2026-01-31; trigger a new run with a valid one"
        ) from err


def end_day(context: Mapping[str, Any]) -> date:
    """The last day a training run tests on: the `end` param when given, else the run's day."""
    given = (context.get("params") or {}).get("end")
    return _parse_day(given, "param 'end'") if given else interval_day(context)
