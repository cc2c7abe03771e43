from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from engageflow.runs import interval_day, requested_days


def test_a_daily_run_owns_the_start_day_of_its_interval() -> None:
    context = {
        "data_interval_start": datetime(2026, 1, 1, tzinfo=UTC),
        "data_interval_end": datetime(2026, 1, 2, tzinfo=UTC),
    }
    assert interval_day(context) == date(2026, 1, 1)


def test_zero_length_intervals_are_refused_with_the_fix() -> None:
    moment = datetime(2026, 1, 2, tzinfo=UTC)
    with pytest.raises(ValueError, match="CronDataIntervalTimetable"):
        interval_day({"data_interval_start": moment, "data_interval_end": moment})


@dataclass
class _Event:  # the two attributes Airflow's asset event references carry that we read
    extra: dict


@dataclass
class _Run:
    conf: dict


def test_a_manual_run_names_its_day_in_the_conf() -> None:
    context = {"dag_run": _Run({"day": "2026-01-02"}), "triggering_asset_events": {}}
    assert requested_days(context) == [date(2026, 1, 2)]


def test_asset_triggered_runs_take_every_day_of_their_events_oldest_first() -> None:
    events = [_Event({"day": "2026-01-03"}), _Event({"day": "2026-01-02"}), _Event({})]
    context = {"dag_run": _Run({}), "triggering_asset_events": {"lake.events": events}}
    assert requested_days(context) == [date(2026, 1, 2), date(2026, 1, 3)]


def test_no_day_anywhere_is_refused_with_the_fix() -> None:
    with pytest.raises(ValueError, match='"day"'):
        requested_days({"dag_run": _Run({}), "triggering_asset_events": {}})
    with pytest.raises(ValueError, match="not a day"):
        requested_days({"dag_run": _Run({"day": "Jan 2"})})
