from datetime import UTC, date, datetime

import pytest

from engageflow.runs import interval_day


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
