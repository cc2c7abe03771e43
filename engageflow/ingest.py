"""Move a day from the landing zone into the lake: one validated, atomically written partition."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from engageflow import lake, schema
from engageflow.errors import DataError
from engageflow.settings import Settings


class NothingLanded(DataError, FileNotFoundError):
    """The landing partition a run expects is missing; the message says how to fill it."""


@dataclass(frozen=True)
class Ingested:
    day: date
    rows: int
    path: Path


def _landed(settings: Settings, dataset: str, day: date, contract: pa.Schema) -> pa.Table:
    files = lake.partition_files(settings.root, "landing", dataset, day)
    if not files:
        folder = lake.partition_dir(settings.root, "landing", dataset, day)
        raise NothingLanded(
            f"no {dataset} landed for {day}: {folder} has no Parquet files. "
            "Run `engageflow simulate` or `engageflow import-events` for that day first."
        )
    tables = [schema.conform(pq.read_table(f), contract, str(f)) for f in files]
    return pa.concat_tables(tables)


def ingest_catalog(settings: Settings, day: date) -> Ingested:
    """Copy the day's item catalog snapshot into `lake/items/date=day/`."""
    items = _landed(settings, "items", day, schema.ITEMS).sort_by("item_id")
    path = lake.write_partition(items, settings.root, "lake", "items", day)
    return Ingested(day, items.num_rows, path)


def ingest_events(settings: Settings, day: date) -> Ingested:
    """Replace `lake/events/date=day/` with every event file landed for that day, in time order."""
    events = _landed(settings, "events", day, schema.EVENTS)
    events = events.sort_by(schema.TIME_ORDER)
    path = lake.write_partition(events, settings.root, "lake", "events", day)
    return Ingested(day, events.num_rows, path)
