"""Which days train, validate and test a model: consecutive, time-ordered, never shuffled.

The most recent `test_days` (ending on the end day) test, the `validation_days` before them
validate (early stopping, search), and the `train_days` before those train. Every model compared
by the gate is scored on the same test days.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta

from engageflow import lake
from engageflow.errors import DataError
from engageflow.settings import Settings, TrainingConfig


@dataclass(frozen=True)
class Window:
    """Inclusive day ranges; train < validation < test, with no gaps or overlaps."""

    train_start: date
    train_end: date
    validation_start: date
    validation_end: date
    test_start: date
    test_end: date

    @property
    def train(self) -> list[date]:
        return lake.days_between(self.train_start, self.train_end)

    @property
    def validation(self) -> list[date]:
        return lake.days_between(self.validation_start, self.validation_end)

    @property
    def test(self) -> list[date]:
        return lake.days_between(self.test_start, self.test_end)

    @property
    def days(self) -> list[date]:
        return lake.days_between(self.train_start, self.test_end)

    def to_dict(self) -> dict[str, str]:
        """ISO dates, for MLflow params and DAG results."""
        return {key: value.isoformat() for key, value in asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict[str, str]) -> Window:
        return cls(**{key: date.fromisoformat(value) for key, value in values.items()})


def rolling_window(end: date, config: TrainingConfig) -> Window:
    """The window whose last test day is `end`."""
    test_start = end - timedelta(days=config.test_days - 1)
    validation_end = test_start - timedelta(days=1)
    validation_start = validation_end - timedelta(days=config.validation_days - 1)
    train_end = validation_start - timedelta(days=1)
    train_start = train_end - timedelta(days=config.train_days - 1)
    return Window(train_start, train_end, validation_start, validation_end, test_start, end)


def latest_window(settings: Settings) -> Window:
    """The window ending on the newest day in the lake, checked to be complete."""
    days = list(lake.partition_days(settings.root, "lake", "events"))
    if not days:
        raise DataError(
            f"no events in {settings.root / 'lake' / 'events'}: ingest some days first "
            "(`engageflow simulate` then `engageflow ingest`)"
        )
    window = rolling_window(days[-1], settings.training)
    require_days(settings, window)
    return window


def require_days(settings: Settings, window: Window) -> None:
    """Fail with the missing days named when the lake lacks any day of the window."""
    have = set(lake.partition_days(settings.root, "lake", "events"))
    missing = [day for day in window.days if day not in have]
    if missing:
        listed = ", ".join(day.isoformat() for day in missing)
        raise DataError(
            f"the training window {window.train_start}..{window.test_end} needs lake/events for "
            f"every day; missing: {listed}. Ingest those days or shorten training.train_days."
        )
