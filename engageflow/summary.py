"""A day-by-day readout of the lake: volume, click-through and good versus bad engagement."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from engageflow import lake, schema
from engageflow.labels import impression_labels
from engageflow.settings import Settings

COLUMNS = ["day", "events", "impressions", "users", "items", "ctr", "good_rate", "bad_rate"]


def day_summary(settings: Settings, day: date) -> dict[str, Any]:
    """One ingested day's volume and engagement rates (zeros when the day is not in the lake)."""
    events = lake.read_partition(settings.root, "lake", "events", day, schema.EVENTS)
    if events is None:
        return {**dict.fromkeys(COLUMNS, 0), "day": day}
    frame = events.to_pandas()
    shown = impression_labels(frame, settings.labels)
    return {
        "day": day,
        "events": len(frame),
        "impressions": len(shown),
        "users": frame["user_id"].nunique(),
        "items": frame["item_id"].nunique(),
        "ctr": float(shown["clicked"].mean()),
        "good_rate": float(shown["good"].mean()),
        "bad_rate": float(shown["bad"].mean()),
    }


def summarise(settings: Settings) -> pd.DataFrame:
    """One row per ingested day, oldest first; empty when nothing has been ingested."""
    days = lake.partition_days(settings.root, "lake", "events")
    return pd.DataFrame([day_summary(settings, day) for day in days], columns=COLUMNS)
