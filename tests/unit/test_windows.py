from datetime import date

import pyarrow as pa
import pytest

from engageflow import lake
from engageflow.errors import DataError
from engageflow.settings import Settings, TrainingConfig
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
