"""Compute a day's features from the lake, validate them, write the offline tables atomically."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pyarrow as pa

from engageflow import lake, schema
from engageflow.errors import DataError
from engageflow.lake import day_bounds
from engageflow.settings import Settings
from feature_repo.compute import compute_features, history_frames, lookback_days
from feature_repo.sources import AREA
from feature_repo.tables import HISTORY_VIEWS, ITEM_EMBEDDING, VIEWS
from feature_repo.transforms.labelled import labelled_impressions
from feature_repo.validate import validate_features

EVENT_COLUMNS = ["ts", "user_id", "item_id", "event_type", "dwell_seconds", "request_id"]


class LakeDayMissing(DataError, FileNotFoundError):
    """The lake lacks the day a feature run needs; the message says how to fill it."""


def read_inputs(settings: Settings, day: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Events of the lookback window ending with `day`, and the catalog as of `day`."""
    root = settings.root
    catalog = lake.read_partition(root, "lake", "items", day, schema.ITEMS)
    parts = [
        lake.read_partition(root, "lake", "events", day - timedelta(days=back), schema.EVENTS)
        for back in range(lookback_days(settings))
    ]
    if catalog is None or parts[0] is None:
        raise LakeDayMissing(
            f"lake has no events or catalog for {day} under {root / 'lake'}: "
            f"run the ingest_events DAG (or `engageflow ingest --day {day}`) first."
        )
    events = pa.concat_tables([p.select(EVENT_COLUMNS) for p in parts if p is not None])
    return events.to_pandas(), catalog.to_pandas()


def build_offline(settings: Settings, day: date) -> dict[str, int]:
    """Write `features/<view>/date=day/` for every view (stamped day + 1), after validation.

    With the PostgreSQL offline store the day is also loaded there, replacing the day's rows.
    """
    events, catalog = read_inputs(settings, day)
    previous = previous_tables(settings, day)
    users = newest_users(settings, day)
    tables = compute_features(events, catalog, day_bounds(day)[1], settings, previous, users)
    validate_features(tables, settings, day)
    for view in VIEWS:
        lake.write_partition(tables[view], settings.root, AREA, view, day)
    if settings.feast.offline_store == "postgres":
        from feature_repo.offline_postgres import load_day

        load_day(settings, day, tables)
    return {view: tables[view].num_rows for view in VIEWS}


def newest_users(settings: Settings, day: date) -> pd.DataFrame | None:
    """The newest user snapshot in the lake at or before `day` (attributes are static), if any."""
    days = [d for d in lake.partition_days(settings.root, "lake", "users") if d <= day]
    if not days:
        return None
    return lake.read_partition(settings.root, "lake", "users", days[-1], schema.USERS).to_pandas()


def previous_tables(settings: Settings, day: date) -> dict[str, pd.DataFrame | None]:
    """What a day's tables carry forward: the item embedding's newest earlier table (its basis)
    and the history views as of the start of `day`, carried through any lake days their newest
    earlier tables miss (a first build folds the whole lake, a day at a time)."""
    root = settings.root
    embedded = [d for d in lake.partition_days(root, AREA, ITEM_EMBEDDING) if d < day]
    embedding = _table(settings, ITEM_EMBEDDING, embedded[-1]) if embedded else None
    built = [d for d in lake.partition_days(root, AREA, HISTORY_VIEWS[0]) if d < day]
    since = built[-1] if built else None
    state = {view: _table(settings, view, since) if since else None for view in HISTORY_VIEWS}
    for missed in lake.partition_days(root, "lake", "events"):
        if (since is None or missed > since) and missed < day:
            events = lake.read_partition(root, "lake", "events", missed, schema.EVENTS)
            start, end = day_bounds(missed)
            today = labelled_impressions(events.to_pandas(), settings.labels, start, end)
            state = dict(history_frames(state, today, embedding, end, settings))
    return {ITEM_EMBEDDING: embedding, **state}


def _table(settings: Settings, view: str, day: date) -> pd.DataFrame:
    return lake.read_partition(settings.root, AREA, view, day).to_pandas()


def latest_feature_day(settings: Settings) -> date | None:
    """The newest day with a written feature table (every view is written together)."""
    days = list(lake.partition_days(settings.root, AREA, VIEWS[0]))
    return days[-1] if days else None
