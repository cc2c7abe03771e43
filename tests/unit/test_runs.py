from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from dags.support.runs import (
    daily_schedule,
    end_day,
    event_days,
    event_extra,
    interval_day,
    run_days,
)


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
    with pytest.raises(ValueError, match='"day"'):  # asset-triggered runs have no interval
        interval_day({"data_interval_start": None, "data_interval_end": None})


@dataclass
class _Event:  # the two attributes Airflow's asset event references carry that we read
    extra: dict


@dataclass
class _Run:
    conf: dict


def test_a_manual_run_names_its_day_in_the_conf() -> None:
    context = {"dag_run": _Run({"day": "2026-01-02"}), "triggering_asset_events": {}}
    assert run_days(context) == [date(2026, 1, 2)]


def test_asset_triggered_runs_take_every_day_of_their_events_oldest_first() -> None:
    events = [
        _Event({"day": "2026-01-03"}),
        _Event(event_extra([date(2026, 1, 5), date(2026, 1, 2)])),
        _Event({}),
    ]
    context = {"dag_run": _Run({}), "triggering_asset_events": {"lake.events": events}}
    assert run_days(context) == [date(2026, 1, 2), date(2026, 1, 3), date(2026, 1, 5)]
    assert event_days(event_extra([date(2026, 1, 5), date(2026, 1, 2)])) == [
        "2026-01-02",
        "2026-01-05",
    ]
    assert event_extra([date(2026, 1, 5), date(2026, 1, 2)])["day"] == "2026-01-05"


def test_the_conf_wins_over_events_and_events_over_the_interval() -> None:
    interval = {
        "data_interval_start": datetime(2026, 1, 7, tzinfo=UTC),
        "data_interval_end": datetime(2026, 1, 8, tzinfo=UTC),
    }
    events = {"landing.events": [_Event({"day": "2026-01-04"})]}
    both = {"dag_run": _Run({"day": "2026-01-09"}), "triggering_asset_events": events}
    assert run_days({**interval, **both}) == [date(2026, 1, 9)]
    assert run_days({**interval, **both, "dag_run": _Run({})}) == [date(2026, 1, 4)]
    assert run_days({**interval, "dag_run": _Run({}), "triggering_asset_events": {}}) == [
        date(2026, 1, 7)
    ]
    assert run_days(interval) == [date(2026, 1, 7)]  # no dag_run at all (dag.test of a task)


def test_the_training_end_is_the_param_else_the_runs_day() -> None:
    interval = {
        "data_interval_start": datetime(2026, 1, 7, tzinfo=UTC),
        "data_interval_end": datetime(2026, 1, 8, tzinfo=UTC),
    }
    assert end_day({**interval, "params": {"end": "2026-01-03"}}) == date(2026, 1, 3)
    assert end_day({**interval, "params": {"end": None}}) == date(2026, 1, 7)
    with pytest.raises(ValueError, match="param 'end'"):
        end_day({**interval, "params": {"end": "soon"}})


def test_no_day_anywhere_is_refused_with_the_fix() -> None:
    with pytest.raises(ValueError, match='"day"'):
        run_days({"dag_run": _Run({}), "triggering_asset_events": {}})
    with pytest.raises(ValueError, match="not a day"):
        run_days({"dag_run": _Run({"day": "Jan 2"})})
    bad = {"dag_run": _Run({}), "triggering_asset_events": {"a": [_Event({"days": ["x"]})]}}
    with pytest.raises(ValueError, match="asset event extra of a"):
        run_days(bad)


def test_the_schedule_setting_turns_the_clock_on_or_off() -> None:
    from airflow.sdk import Asset, AssetOrTimeSchedule, CronDataIntervalTimetable

    assert isinstance(daily_schedule("@daily"), CronDataIntervalTimetable)
    both = daily_schedule("0 3 * * *", assets=["engageflow.landing.events"])
    assert isinstance(both, AssetOrTimeSchedule)
    assert isinstance(both.timetable, CronDataIntervalTimetable)
    assert daily_schedule("none") is None
    assert daily_schedule("", assets=["x"]) == [Asset("x")]
