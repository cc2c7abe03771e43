from datetime import date, timedelta

import pandas as pd
import pyarrow as pa
import pytest

from engageflow import lake, schema
from engageflow.errors import DataError
from engageflow.settings import Settings, TrainingConfig
from training.sizing import sized_window
from training.windows import Window, latest_window, require_days, rolling_window


def test_window_is_time_ordered_and_ends_on_the_test_day() -> None:
    config = TrainingConfig(train_days=3, validation_days=2, test_days=1)
    window = rolling_window(date(2026, 1, 10), config)
    assert window.test == [date(2026, 1, 10)]
    assert window.validation == [date(2026, 1, 8), date(2026, 1, 9)]
    assert window.train == [date(2026, 1, 5), date(2026, 1, 6), date(2026, 1, 7)]
    assert window.days == window.train + window.validation + window.test
    assert Window.from_dict(window.to_dict()) == window


def test_missing_days_are_named(settings: Settings) -> None:
    settings.training.train_days = 2
    with pytest.raises(DataError, match="ingest some days first"):
        latest_window(settings)
    for day in (date(2026, 1, 1), date(2026, 1, 3), date(2026, 1, 4)):
        lake.write_partition(pa.table({"x": [1]}), settings.root, "lake", "events", day)
    window = rolling_window(date(2026, 1, 4), settings.training)
    with pytest.raises(DataError, match="missing: 2026-01-02"):
        require_days(settings, window)
    lake.write_partition(pa.table({"x": [1]}), settings.root, "lake", "events", date(2026, 1, 2))
    assert latest_window(settings).train == [date(2026, 1, 1), date(2026, 1, 2)]


def _slates(day: date, requests: int) -> pa.Table:
    """`requests` two-item slates on `day`, the first item of each liked (a rankable group)."""
    rows = []
    ts = pd.Timestamp(day, tz="UTC") + pd.Timedelta(hours=12)
    for r in range(requests):
        for position, kinds in enumerate((["impression", "click", "like"], ["impression"])):
            for kind in kinds:
                rows.append(
                    {
                        "event_id": f"{day}-{r}-{position}-{kind}",
                        "ts": ts,
                        "user_id": f"u{r}",
                        "item_id": f"i{position}",
                        "event_type": kind,
                        "dwell_seconds": 60.0 if kind == "click" else None,
                        "position": position,
                        "request_id": f"{day}-{r}",
                        "policy": "explore",
                        "model_version": None,
                        "propensity": 0.5,
                        "device": "mobile",
                        "hour": 12,
                    }
                )
    frame = pd.DataFrame(rows) if rows else schema.EVENTS.empty_table().to_pandas()
    return schema.conform(pa.Table.from_pandas(frame, preserve_index=False), schema.EVENTS, "")


def _lake(settings: Settings, per_day: dict[date, int]) -> None:
    for day, requests in per_day.items():
        lake.write_partition(_slates(day, requests), settings.root, "lake", "events", day)


def test_evaluation_spans_widen_until_they_hold_enough_groups(settings: Settings) -> None:
    settings.training.min_rankable_groups = 10
    days = [date(2026, 1, 1) + timedelta(days=i) for i in range(20)]
    _lake(settings, {day: 4 for day in days} | {date(2026, 1, 18): 0})  # a quiet day
    window = sized_window(settings, days[-1], train_days=3)
    # 4 groups a day: 3 days hold 12; the quiet 18th adds none, so the test needs 4 days.
    assert window.test == [date(2026, 1, 17), *days[-3:]]
    assert window.validation == [date(2026, 1, 14), date(2026, 1, 15), date(2026, 1, 16)]
    assert window.train == [date(2026, 1, 11), date(2026, 1, 12), date(2026, 1, 13)]


def test_a_busy_log_keeps_the_configured_days(settings: Settings) -> None:
    settings.training.min_rankable_groups = 10
    days = [date(2026, 1, 1) + timedelta(days=i) for i in range(10)]
    _lake(settings, {day: 12 for day in days})
    window = sized_window(settings, days[-1], train_days=3)
    settings.training.train_days = 3
    assert window == rolling_window(days[-1], settings.training)


def test_widening_stops_at_the_cap_and_where_the_train_days_begin(settings: Settings) -> None:
    settings.training.min_rankable_groups = 1000
    settings.training.max_eval_days = 4
    days = [date(2026, 1, 1) + timedelta(days=i) for i in range(20)]
    _lake(settings, {day: 1 for day in days})
    capped = sized_window(settings, days[-1], train_days=2)
    assert (len(capped.test), len(capped.validation), len(capped.train)) == (4, 4, 2)
    settings.training.max_eval_days = 28
    short = sized_window(settings, days[-1], train_days=2)
    # The whole lake is used, and the train window keeps its 2 days at the lake's start.
    assert short.train_start == days[0] and len(short.train) == 2
    assert len(short.validation) == 1 and len(short.test) == 17
