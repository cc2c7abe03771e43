"""What every engageflow DAG shares: default arguments, asset names, the run's day."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from airflow.sdk import ExceptionRetryPolicy, RetryAction, RetryRule

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
