"""Load feature rows into the online store so that it ends at the newest offline state."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from engageflow.errors import DataError
from engageflow.lake import day_bounds
from engageflow.settings import Settings
from feature_repo.offline import latest_feature_day
from feature_repo.store import feature_store


@dataclass(frozen=True)
class Materialized:
    start: datetime
    end: datetime


def materialize_days(settings: Settings, days: Sequence[date]) -> Materialized:
    """Materialize rows stamped from the earliest of `days` up to the newest written stamp.

    Going up to the newest stamp (not only the days rerun) keeps the online store at the latest
    values when an older day is rerun: Feast loads the latest row per entity in the range.
    """
    newest = latest_feature_day(settings)
    if newest is None:
        raise DataError(
            f"no feature tables under {settings.root / 'features'}: build them before materializing"
        )
    start = day_bounds(min(days))[1]
    end = max(start, day_bounds(newest)[1])
    feature_store(settings).materialize(start_date=start, end_date=end)
    return Materialized(start, end)
