"""The dynamic side of the suites: values that depend on the run (interval, catalog, history).

They reach GX as expectation parameters (`{"$PARAMETER": ...}` in the reviewed JSON), so the
suites themselves never change from run to run.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from scipy import stats

from engageflow import lake
from engageflow.errors import DataError
from engageflow.schema import EventType
from engageflow.settings import QualityConfig, Settings
from expectations.gate import Validation, validate

log = logging.getLogger(__name__)
MIN_SPREAD_HISTORY = 3  # days before a history's own spread widens its band


class CatalogMissing(DataError, FileNotFoundError):
    """Events cannot be checked against items when the day's catalog is not in the lake."""


def event_parameters(settings: Settings, day: date) -> dict[str, Any]:
    """Interval bounds, the day's known items and volume bounds for the `events` suite.

    A landing of empty files is a valid, empty day (an import lands one for each day of its
    log without events), so the lower volume bound applies only to a day that holds rows.
    """
    start, end = lake.day_bounds(day)
    low, high = volume_bounds(settings.root, "events", day, settings.quality)
    return {
        "interval_start": start,
        "interval_end": end,
        "known_items": known_items(settings.root, day),
        "min_rows": lambda frame: 0 if frame.empty else low,
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
        return batch_items
    ids = pa.concat_arrays(
        [pq.read_table(f, columns=["item_id"])["item_id"].combine_chunks() for f in files]
    )
    return pc.unique(ids).to_pylist()


def batch_items(frame: pd.DataFrame) -> list[str]:
    """The batch's own item ids, taken as known where no catalog can be checked against."""
    return frame["item_id"].dropna().unique().tolist()


def collected_event_parameters(
    now: pd.Timestamp, max_age: timedelta, future_tolerance: timedelta, max_rows: int
) -> dict[str, Any]:
    """The `events` suite's values for one batch posted to the collector at `now`: times from
    `max_age` ago to the importer's future tolerance ahead, at most `max_rows` events. Items are
    checked against the catalog by the daily gate (today's catalog is not in the lake yet)."""
    return {
        "interval_start": now - max_age,
        "interval_end": now + future_tolerance,
        "known_items": batch_items,
        "min_rows": 1,
        "max_rows": max_rows,
    }


def history_band(
    history: list[float], ratios: tuple[float, float], spread: float
) -> tuple[float, float]:
    """Bounds around the median of `history` (positive values): at least `ratios` (below,
    above) of it, wider where `spread` robust standard deviations of the log values reach
    further (with 3 or more values; a bursty log earns a wider band than a steady one)."""
    logs = np.log(np.asarray(history, dtype=float))
    center = float(np.median(history))
    width = spread * float(stats.median_abs_deviation(logs, scale="normal"))
    low, high = ratios
    if len(logs) >= MIN_SPREAD_HISTORY and width > 0:
        low, high = min(low, math.exp(-width)), max(high, math.exp(width))
    return center * low, center * high


def recent_days(root: Path, dataset: str, day: date, days: int) -> list[list[Path]]:
    """The lake files of each of the `days` days before `day` that has any."""
    found = []
    for back in range(1, days + 1):
        files = lake.partition_files(root, "lake", dataset, day - timedelta(days=back))
        if files:
            found.append(files)
    return found


def volume_bounds(
    root: Path, dataset: str, day: date, quality: QualityConfig
) -> tuple[int, int | None]:
    """Row-count bounds from recent lake partitions (history_band); without history, >= 1."""
    counts = [
        sum(pq.ParquetFile(f).metadata.num_rows for f in files)
        for files in recent_days(root, dataset, day, quality.history_days)
    ]
    counts = [c for c in counts if c > 0]
    if not counts:
        return 1, None
    ratios = (quality.volume_min_ratio, quality.volume_max_ratio)
    low, high = history_band(counts, ratios, quality.history_spread)
    return max(1, math.floor(low)), math.ceil(high)


def daily_stats(events: pa.Table) -> pd.DataFrame:
    """One row for the day: impressions, clicks and their ratio (null without impressions)."""
    kinds = events["event_type"]
    impressions = pc.sum(pc.equal(kinds, EventType.IMPRESSION.value)).as_py() or 0
    clicks = pc.sum(pc.equal(kinds, EventType.CLICK.value)).as_py() or 0
    ctr = clicks / impressions if impressions else None
    return pd.DataFrame({"impressions": [impressions], "clicks": [clicks], "ctr": [ctr]})


def ctr_bounds(root: Path, day: date, quality: QualityConfig) -> dict[str, float]:
    """The day's CTR bounds: settings' [ctr_min, ctr_max], narrowed to the recent days' band
    (history_band with ratios 1/ctr_change_ratio and ctr_change_ratio) when there are any."""
    history = []
    for files in recent_days(root, "events", day, quality.history_days):
        kinds = pa.concat_arrays(
            [pq.read_table(f, columns=["event_type"])["event_type"].combine_chunks() for f in files]
        )
        ctr = daily_stats(pa.table({"event_type": kinds}))["ctr"].iloc[0]
        if ctr is not None and ctr > 0:
            history.append(float(ctr))
    if not history:
        return {"ctr_min": quality.ctr_min, "ctr_max": quality.ctr_max}
    ratio = quality.ctr_change_ratio
    low, high = history_band(history, (1 / ratio, ratio), quality.history_spread)
    return {"ctr_min": max(quality.ctr_min, low), "ctr_max": min(quality.ctr_max, high)}


def check_daily_stats(events: pa.Table, bounds: dict[str, float]) -> Validation:
    """Distribution sanity of the accepted events: CTR within `bounds` (ctr_bounds)."""
    return validate(daily_stats(events), "daily_stats", bounds, rows_are_records=False)
