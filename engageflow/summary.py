"""A day-by-day readout of the lake: volume, click-through and good versus bad engagement."""

from __future__ import annotations

import pandas as pd

from engageflow import lake, schema
from engageflow.labels import impression_labels
from engageflow.settings import Settings

COLUMNS = ["day", "events", "impressions", "users", "items", "ctr", "good_rate", "bad_rate"]


def summarise(settings: Settings) -> pd.DataFrame:
    """One row per ingested day, oldest first; empty when nothing has been ingested."""
    rows = []
    for day in lake.partition_days(settings.root, "lake", "events"):
        events = lake.read_partition(settings.root, "lake", "events", day, schema.EVENTS)
        if events is None:
            continue
        frame = events.to_pandas()
        shown = impression_labels(frame, settings.labels)
        rows.append(
            {
                "day": day,
                "events": len(frame),
                "impressions": len(shown),
                "users": frame["user_id"].nunique(),
                "items": frame["item_id"].nunique(),
                "ctr": shown["clicked"].mean(),
                "good_rate": shown["good"].mean(),
                "bad_rate": shown["bad"].mean(),
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)
