"""The dynamic side of the suites: values that depend on the run (interval, catalog, history).

They reach GX as expectation parameters (`{"$PARAMETER": ...}` in the reviewed JSON), so the
suites themselves never change from run to run.
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from engageflow import lake
from engageflow.errors import DataError
from engageflow.schema import EventType
from engageflow.settings import QualityConfig, Settings
from expectations.gate import Validation, validate

log = logging.getLogger(__name__)


class CatalogMissing(DataError, FileNotFoundError):
    """Events cannot be checked against items when the day's catalog is not in the lake."""


def event_parameters(settings: Settings, day: date) -> dict[str, Any]:
    """Interval bounds, the day's known items and volume bounds for the `events` suite."""
    start, end = lake.day_bounds(day)
    low, high = volume_bounds(settings.root, "events", day, settings.quality)
    return {
        "interval_start": start,
        "interval_end": end,
        "known_items": known_items(settings.root, day),
        "min_rows": low,
        "max_rows": high,
    }


def catalog_parameters(day: date) -> dict[str, Any]:
    """The `items` suite's only dynamic value: the end of the snapshot's day."""
    return {"interval_end": lake.day_bounds(day)[1]}


def known_items(root: Path, day: date) -> list[str] | Callable[[pd.DataFrame], list[str]]:
    """Item ids of the day's catalog in the lake (ingest_catalog runs before ingest_events).

    Imported logs come without any catalog: then, and only when the lake holds no catalog at
    all, the batch's own items are taken as known (the check is logged as not applicable).
    """
    files = lake.partition_files(root, "lake", "items", day)
    if not files and any(lake.partition_days(root, "lake", "items")):
        raise CatalogMissing(
            f"no catalog for {day} in {lake.partition_dir(root, 'lake', 'items', day)}: "
            "events are checked against it. Ingest the catalog first (ingest_catalog)."
        )
    if not files:
        log.warning("no item catalog in the lake: events are not checked against known items")
        return lambda frame: frame["item_id"].dropna().unique().tolist()
    ids = pa.concat_arrays(
        [pq.read_table(f, columns=["item_id"])["item_id"].combine_chunks() for f in files]
    )
    return pc.unique(ids).to_pylist()


def volume_bounds(
    root: Path, dataset: str, day: date, quality: QualityConfig
) -> tuple[int, int | None]:
    """Row-count bounds from the median of recent lake partitions; without history, >= 1."""
    counts = []
    for back in range(1, quality.volume_history_days + 1):
        files = lake.partition_files(root, "lake", dataset, day - timedelta(days=back))
        if files:
            counts.append(sum(pq.ParquetFile(f).metadata.num_rows for f in files))
    if not counts:
        return 1, None
    median = statistics.median(counts)
    return max(1, int(median * quality.volume_min_ratio)), int(median * quality.volume_max_ratio)


def daily_stats(events: pa.Table) -> pd.DataFrame:
    """One row for the day: impressions, clicks and their ratio (null without impressions)."""
    kinds = events["event_type"]
    impressions = pc.sum(pc.equal(kinds, EventType.IMPRESSION.value)).as_py() or 0
    clicks = pc.sum(pc.equal(kinds, EventType.CLICK.value)).as_py() or 0
    ctr = clicks / impressions if impressions else None
    return pd.DataFrame({"impressions": [impressions], "clicks": [clicks], "ctr": [ctr]})


def check_daily_stats(events: pa.Table, quality: QualityConfig) -> Validation:
    """Distribution sanity of the accepted events: CTR within settings.quality bounds."""
    bounds = {"ctr_min": quality.ctr_min, "ctr_max": quality.ctr_max}
    return validate(daily_stats(events), "daily_stats", bounds, rows_are_records=False)
