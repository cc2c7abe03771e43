"""One catalog file (an item per row) -> a schema v1 snapshot in `landing/items/date=D/` for each
day of the imported events: the items created by the end of that day.

A catalog rarely says when an item appeared; without `created_at`, an item was created when
the landed events first show it (the day's first day for an item they never show). Text topics
("Drama", "Action|Comedy" with a separator) get integer codes kept in `landing/items/topics.json`,
so a re-import gives the same topic the same code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from engageflow import lake, schema
from engageflow.importer.checks import TimeRules, fail_at, numbers, timestamps
from engageflow.importer.land import land_days, source_tag
from engageflow.importer.mapping import ImportInputError
from engageflow.importer.source import read_source
from engageflow.settings import Settings

UNKNOWN_CREATOR = "unknown"  # creator_id is required; a catalog without creators has one


@dataclass(frozen=True)
class CatalogMapping:
    """Which catalog column is which item field; only `item` is required."""

    item: str
    created_at: str | None = None
    topic: str | None = None
    topic_separator: str | None = None  # the first of several topics is the item's topic
    creator: str | None = None
    sensationalism: str | None = None
    production: str | None = None
    duration: str | None = None

    def sources(self) -> list[str]:
        """The mapped source columns, each once, in mapping order."""
        named = [
            self.item,
            self.created_at,
            self.topic,
            self.creator,
            self.sensationalism,
            self.production,
            self.duration,
        ]
        return list(dict.fromkeys(c for c in named if c is not None))


@dataclass(frozen=True)
class ImportedItems:
    """Items read, the days landed, the files written and how many items took their creation
    time from the events."""

    items: int
    days: list[date]
    files: list[Path]
    dated_by_events: int


def import_items(
    settings: Settings,
    path: Path,
    mapping: CatalogMapping,
    days: list[date] | None = None,
    zone: ZoneInfo | None = None,
    now: pd.Timestamp | None = None,
) -> ImportedItems:
    """Check the catalog, then land one snapshot per day (default: the landed events' days)."""
    days = days or landed_event_span(settings.root)
    source = read_source(path, mapping.sources())
    frame = source.frame
    fail_at(path, frame, frame[mapping.item].isna(), mapping.item, "item id is empty")
    fail_at(path, frame, frame[mapping.item].duplicated(), mapping.item, "item id repeated")
    items = pd.DataFrame({"item_id": frame[mapping.item].str.strip().to_numpy()})
    dated_by_events = 0
    if mapping.created_at:
        rules = TimeRules(
            zone=zone,
            now=now if now is not None else pd.Timestamp.now(tz="UTC"),
            tolerance=settings.importer.future_tolerance,
        )
        items["created_at"] = timestamps(path, frame, mapping.created_at, rules).to_numpy()
    else:
        first = first_seen(settings.root, days)
        seen = items["item_id"].map(first)
        dated_by_events = int(seen.notna().sum())
        items["created_at"] = seen.fillna(pd.Timestamp(lake.day_bounds(days[0])[0]))
    items["topic"], codes = _topics(settings.root, path, frame, mapping)
    creators = frame[mapping.creator].str.strip() if mapping.creator else None
    if creators is not None:
        fail_at(path, frame, creators.isna() | (creators == ""), mapping.creator, "creator empty")
    items["creator_id"] = creators.to_numpy() if creators is not None else UNKNOWN_CREATOR
    for field, column in (
        ("headline_sensationalism", mapping.sensationalism),
        ("production_score", mapping.production),
        ("duration_seconds", mapping.duration),
    ):
        values = numbers(path, frame, column, required=False) if column else np.nan
        items[field] = values.to_numpy() if column else values
    if mapping.duration:
        bad = items["duration_seconds"].to_numpy() <= 0
        fail_at(path, frame, pd.Series(bad, index=frame.index), mapping.duration, "not > 0")
    table = schema.conform(pa.Table.from_pandas(items, preserve_index=False), schema.ITEMS, "")
    if codes:  # after every check: a refused catalog changes nothing
        save_codes(topic_codes_file(settings.root), codes)
    files = land_days(settings.root, "items", source_tag(path), snapshots(table, days))
    return ImportedItems(len(items), days, files, dated_by_events)


def landed_event_span(root: Path) -> list[date]:
    """The days with landed events (quiet days of an import included), or an error saying what
    to do."""
    landed = list(lake.partition_days(root, "landing", "events"))
    if not landed:
        raise ImportInputError(
            f"no events landed under {root / 'landing' / 'events'}, so which days the catalog "
            "covers is unknown: run `engageflow import-events` first, or pass --day/--through"
        )
    return landed


def first_seen(root: Path, days: list[date]) -> dict[str, pd.Timestamp]:
    """Each item's earliest landed event time over `days`."""
    first: dict[str, pd.Timestamp] = {}
    for day in days:
        for file in lake.partition_files(root, "landing", "events", day):
            frame = pq.read_table(file, columns=["item_id", "ts"]).to_pandas()
            for item, ts in frame.groupby("item_id")["ts"].min().items():
                if item not in first or ts < first[item]:
                    first[item] = ts
    return first


def _topics(
    root: Path, path: Path, frame: pd.DataFrame, mapping: CatalogMapping
) -> tuple[np.ndarray, dict[str, int] | None]:
    """Integer topics: given as integers >= 0, or text coded through `topics.json` (then the
    codes to save, old and new)."""
    if not mapping.topic:
        return np.zeros(len(frame), dtype=np.int16), None
    raw = frame[mapping.topic].str.strip()
    fail_at(path, frame, raw.isna() | (raw == ""), mapping.topic, "topic is empty")
    if mapping.topic_separator:
        raw = raw.str.split(mapping.topic_separator, regex=False).str[0].str.strip()
    given = pd.to_numeric(raw, errors="coerce")
    if given.notna().all():
        whole = (given >= 0) & (given == given.round()) & (given < 2**15)
        fail_at(path, frame, ~whole, mapping.topic, "a numeric topic must be an integer >= 0")
        return given.to_numpy(dtype=np.int16), None
    codes = topic_codes(root, sorted(set(raw)))
    return raw.map(codes).to_numpy(dtype=np.int16), codes


def topic_codes(root: Path, names: list[str]) -> dict[str, int]:
    """Codes for text topics: those already in `landing/items/topics.json`, new ones appended
    (not saved here)."""
    return extended_codes(topic_codes_file(root), names)


def extended_codes(where: Path, names: list[str]) -> dict[str, int]:
    """The codes kept in the JSON file `where`, with codes for new `names` appended."""
    codes: dict[str, int] = json.loads(where.read_text()) if where.exists() else {}
    for name in names:
        codes.setdefault(name, len(codes))
    return codes


def save_codes(where: Path, codes: dict[str, int]) -> None:
    lake.write_text_atomic(json.dumps(codes, indent=1, ensure_ascii=False), where)


def topic_codes_file(root: Path) -> Path:
    """Where text topics' codes live: item topics and users' declared topics share them."""
    return root / "landing" / "items" / "topics.json"


def snapshots(items: pa.Table, days: list[date]) -> dict[date, pa.Table]:
    """Each day's snapshot: the items created before the day's end."""
    created = items.column("created_at").to_numpy()
    out = {}
    for day in days:
        end = np.datetime64(lake.day_bounds(day)[1].replace(tzinfo=None), "us")
        out[day] = items.filter(pa.array(created < end))
    return out
