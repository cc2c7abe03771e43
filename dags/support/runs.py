"""What every engageflow DAG shares: default arguments, schedules, asset names, the run's day(s)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from airflow.sdk import (
    Asset,
    AssetOrTimeSchedule,
    CronDataIntervalTimetable,
    ExceptionRetryPolicy,
    RetryAction,
    RetryRule,
)

from engageflow.errors import DataError

# Retries are for flaky infrastructure (a service restarting, a locked database), with
# exponential backoff: 1, 2, 4 ... minutes, never more than 15. Bad data fails at once.
DEFAULT_ARGS: dict[str, Any] = {
    "owner": "engageflow",
    "retries": 3,
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=15),
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
# The first interval a DAG may run: a log's own days, years back, are valid run dates (a run
# before a DAG's start date runs no task). catchup=False keeps the scheduler to the latest day.
START_DATE = datetime(1970, 1, 1, tzinfo=UTC)

# Asset names that join the stages (data-aware scheduling), see docs/architecture.md.
LANDING_EVENTS = "engageflow.landing.events"
LAKE_EVENTS = "engageflow.lake.events"
FEATURES = "engageflow.features"

NO_SCHEDULE = ("", "none")


def daily_schedule(cron: str | None = None, assets: Sequence[str] = ()) -> Any:
    """The schedule of a time-driven DAG: `airflow.schedule` (a cron with day-long intervals),
    or'ed with `assets` when given; without a cron only the assets (or triggers) start runs.

    Read at parse time: the simulated days lie in the past, so a demo turns the clock off.
    """
    if cron is None:
        from engageflow.settings import get_settings

        cron = get_settings().airflow.schedule
    watched = [Asset(name) for name in assets]
    if cron.strip().lower() in NO_SCHEDULE:
        return watched or None
    timetable = CronDataIntervalTimetable(cron, timezone="UTC")
    return AssetOrTimeSchedule(timetable=timetable, assets=watched) if watched else timetable


def interval_day(context: Mapping[str, Any]) -> date:
    """The UTC day a daily run owns: the start of its data interval, never `now()`."""
    start: datetime | None = context.get("data_interval_start")
    end: datetime | None = context.get("data_interval_end")
    if start is None or end is None or end - start != timedelta(days=1):
        raise ValueError(
            f"expected a one-day data interval, got [{start}, {end}); name the day with the "
            'conf {"day": "YYYY-MM-DD"} or schedule with '
            "CronDataIntervalTimetable('@daily', timezone='UTC')"
        )
    return start.date()


def run_days(context: Mapping[str, Any]) -> list[date]:
    """The days a run processes, oldest first: the conf `{"day": ...}`, else the days named in
    the triggering asset events' extras, else the day of the run's data interval."""
    dag_run = context.get("dag_run")
    conf = (getattr(dag_run, "conf", None) or {}) if dag_run is not None else {}
    if conf.get("day"):
        return [parse_day(conf["day"], "run conf 'day'")]
    days = {
        parse_day(value, f"asset event extra of {asset}")
        for asset, events in (context.get("triggering_asset_events") or {}).items()
        for event in events
        for value in event_days(event.extra or {})
    }
    if days:
        return sorted(days)
    try:
        return [interval_day(context)]
    except ValueError as err:
        raise BadRunConf(
            'no day to process: trigger with the conf {"day": "YYYY-MM-DD"}, from an asset '
            'event whose extra holds {"day": ...} (the upstream DAG sets it), or on a daily '
            f"schedule ({err})"
        ) from None


def event_extra(days: Sequence[date]) -> dict[str, Any]:
    """An asset event's extra naming the days it covers: `day` (the newest) and `days`."""
    names = sorted({day.isoformat() for day in days})
    return {"day": names[-1], "days": names}


def event_days(extra: Mapping[str, Any]) -> list[Any]:
    """The days an asset event's extra names (`days`, else `day`), unparsed."""
    if extra.get("days"):
        return list(extra["days"])
    return [extra["day"]] if extra.get("day") else []


class BadRunConf(DataError, ValueError):
    """A run's conf or params hold a bad value: retrying the same conf cannot fix it."""


def parse_day(value: object, where: str) -> date:
    """A day from an ISO string; the error names where the value came from."""
    try:
        return date.fromisoformat(str(value))
    except ValueError as err:
        raise BadRunConf(
            f"{where}: {value!r} is not a day like 2026-01-31; trigger a new run with a valid one"
        ) from err


def end_day(context: Mapping[str, Any]) -> date:
    """The last day a training run tests on: the `end` param when given, else the day of its
    data interval. Never an asset event's day: train_ranker is not asset-scheduled, and a
    manual `dag.test` run was seen to pick up another DAG's event day (2026-01-04 for 01-07)."""
    given = (context.get("params") or {}).get("end")
    if given:
        return parse_day(given, "param 'end'")
    try:
        return interval_day(context)
    except ValueError as err:
        raise BadRunConf(f"no day to test on: give the param 'end' (YYYY-MM-DD) ({err})") from None
