"""Move a day from the landing zone into the lake, through the data-quality gate (expectations/).

Rows that fail a row-level check go to `quarantine/<dataset>/date=D/`, the rest to the lake; a
batch-level failure quarantines the day's files and raises, so the DAG run fails loudly.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from engageflow import lake, schema
from engageflow.errors import DataError
from engageflow.landing import is_imported, landing_files
from engageflow.settings import Settings

log = logging.getLogger(__name__)


class NothingLanded(DataError, FileNotFoundError):
    """The landing partition a run expects is missing; the message says how to fill it."""


@dataclass(frozen=True)
class Ingested:
    day: date
    rows: int  # rows written to the lake (accepted by the gate)
    path: Path
    rows_in: int = 0  # rows read from the landing zone
    rows_quarantined: int = 0
    quarantine: Path | None = None  # where quarantined rows and their reports are, if any


def _files(settings: Settings, dataset: str, day: date) -> list[Path]:
    files = landing_files(settings.root, dataset, day)
    if not files:
        folder = lake.partition_dir(settings.root, "landing", dataset, day)
        raise NothingLanded(
            f"no {dataset} landed for {day}: {folder} has no Parquet or CSV files. "
            "Run `engageflow simulate` or `engageflow import-events` for that day first."
        )
    return files


def ingest_catalog(settings: Settings, day: date) -> Ingested:
    """Gate the day's item catalog snapshot with the `items` suite into `lake/items/date=day/`."""
    from expectations.checks import catalog_parameters
    from expectations.landing_gate import gate_landed

    files = _files(settings, "items", day)
    gated = gate_landed(
        settings.root,
        "items",
        day,
        files,
        schema.ITEMS,
        catalog_parameters(day),
        max_rejected_share=settings.quality.max_rejected_share,
    )
    items = gated.accepted.sort_by("item_id")
    path = lake.write_partition(items, settings.root, "lake", "items", day)
    return Ingested(
        day, items.num_rows, path, gated.rows_in, gated.rows_quarantined, gated.quarantine
    )


def ingest_users(settings: Settings, day: date) -> Ingested | None:
    """Gate the day's user-attribute snapshot, if one landed, into `lake/users/date=day/`.

    User attributes are optional and land rarely (an import, or the simulator daily): a day
    without a snapshot keeps the newest earlier one, and None says nothing was landed.
    """
    from expectations.landing_gate import gate_landed

    files = landing_files(settings.root, "users", day)
    if not files:
        return None
    gated = gate_landed(
        settings.root,
        "users",
        day,
        files,
        schema.USERS,
        # Signups after the day are fine: a user table is exported once, and a user's
        # attributes serve from their signup day on (feature_repo/transforms/attributes.py).
        {"age_bands": len(schema.AGE_BANDS)},
        max_rejected_share=settings.quality.max_rejected_share,
    )
    users = gated.accepted.sort_by("user_id")
    path = lake.write_partition(users, settings.root, "lake", "users", day)
    return Ingested(
        day, users.num_rows, path, gated.rows_in, gated.rows_quarantined, gated.quarantine
    )


def ingest_events(settings: Settings, day: date) -> Ingested:
    """Gate the day's landed event files with the `events` suite into `lake/events/date=day/`."""
    from expectations.checks import check_daily_stats, ctr_bounds, event_parameters
    from expectations.landing_gate import gate_landed

    files = _files(settings, "events", day)
    ctr = ctr_bounds(settings.root, day, settings.quality)
    parameters = event_parameters(settings, day)
    if all(is_imported(f) for f in files):
        # A day an import landed is the source's whole day: no partial landing to catch, and a
        # public log's quiet days (3 ratings against a median of 1,000) are real.
        log.info("%s: an imported day, its volume is not held against recent days", day)
        parameters |= {"min_rows": 0, "max_rows": None}
    gated = gate_landed(
        settings.root,
        "events",
        day,
        files,
        schema.EVENTS,
        parameters,
        batch_checks=[lambda accepted: check_daily_stats(accepted, ctr)],
        max_rejected_share=settings.quality.max_rejected_share,
    )
    events = gated.accepted.sort_by(schema.TIME_ORDER)
    path = lake.write_partition(events, settings.root, "lake", "events", day)
    return Ingested(
        day, events.num_rows, path, gated.rows_in, gated.rows_quarantined, gated.quarantine
    )


def ingest_day(settings: Settings, day: date) -> Ingested:
    """A whole landed day, in the order the checks need: the catalog, any user attributes,
    then the events (checked against the catalog); returns the events' result."""
    ingest_catalog(settings, day)
    ingest_users(settings, day)
    return ingest_events(settings, day)
