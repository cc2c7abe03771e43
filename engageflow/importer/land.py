"""Checked rows -> event rows in the schema (users and request ids pseudonymized), landed one
file per day; the key is loaded only once every check has passed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa

from engageflow import lake, schema
from engageflow.errors import StorageError
from engageflow.importer.checks import Checked, TimeRules, check_rows
from engageflow.importer.mapping import ColumnMapping
from engageflow.importer.source import read_source
from engageflow.landing import imported_name
from engageflow.pseudonym import load_key, pseudonymize
from engageflow.schema import TIME_ORDER
from engageflow.settings import Settings


@dataclass(frozen=True)
class Imported:
    """What an import did: rows read, blank rows skipped (all mapped cells empty), events
    landed, and the files written. Every other row became at least one event."""

    rows: int
    blank: int
    events: int
    files: list[Path]
    unlanded_days: int = 0  # days in gaps longer than importer.max_quiet_days, left unlanded


def import_events(
    settings: Settings,
    path: Path,
    mapping: ColumnMapping,
    zone: ZoneInfo | None = None,
    now: pd.Timestamp | None = None,
) -> Imported:
    """Check the whole file, then land one file per day named after the source's content hash,
    and an empty one for each quiet day inside the log (a valid, empty day, not a gap).
    `zone`: the zone of times written without one (refused without it); `now`: for tests."""
    source = read_source(path, mapping.sources())
    rules = TimeRules(
        zone=zone,
        now=now if now is not None else pd.Timestamp.now(tz="UTC"),
        tolerance=settings.importer.future_tolerance,
    )
    checked = check_rows(path, source.frame, mapping, rules)
    tag = source_tag(path)
    key = load_key(settings)  # after the checks: a refused file leaves no key file behind
    events = to_events(path, source.frame, checked, mapping, key, tag)
    days = event_days(events)
    every = quiet_filled(sorted(set(days)), settings.importer.max_quiet_days)
    written = land_days(
        settings.root,
        "events",
        tag,
        {day: events.filter(pa.array(days == day)).sort_by(TIME_ORDER) for day in every},
    )
    gaps = len(lake.days_between(min(days), max(days))) - len(every)
    return Imported(source.rows, source.blank, events.num_rows, written, gaps)


def quiet_filled(days: list[date], max_quiet: int) -> list[date]:
    """`days` (sorted) plus the days between two of them when at most `max_quiet` lie between."""
    out = days[:1]
    for day in days[1:]:
        between = lake.days_between(out[-1], day)[1:-1]
        out += [*between, day] if len(between) <= max_quiet else [day]
    return out


def land_days(root: Path, dataset: str, tag: str, tables: dict[date, pa.Table]) -> list[Path]:
    """Write each day's table as `landing/<dataset>/date=D/<tag>.parquet`, all or nothing."""
    written: list[Path] = []
    created: list[Path] = []
    try:
        for day, table in tables.items():
            target = lake.partition_dir(root, "landing", dataset, day) / f"{tag}.parquet"
            existed = target.exists()
            written.append(lake.write_atomic(table, target))
            if not existed:
                created.append(target)
    except StorageError:
        # A refused write (disk full, a file where a folder should be) on day N must not leave
        # days 1..N-1 landed: the import is all or nothing. Files an earlier import of the same
        # source landed hold the same bytes and stay.
        for done in created:
            done.unlink(missing_ok=True)
        raise
    return written


def source_tag(path: Path) -> str:
    """The name of a source's landed files: its content hash (a re-import replaces them)."""
    return imported_name(path.read_bytes()).removesuffix(".parquet")


def to_events(
    path: Path,
    frame: pd.DataFrame,
    checked: Checked,
    mapping: ColumnMapping,
    key: bytes,
    source_tag: str,
) -> pa.Table:
    """Checked source rows -> event rows in the schema; event ids name the source row."""
    ts = checked.ts
    given = frame[mapping.request].fillna("") if mapping.request else None
    users, requests = event_pseudonyms(frame[mapping.user], frame[mapping.item], ts, given, key)
    parts = []
    for rows, kind, dwell in checked.actions:
        if isinstance(kind, pd.Series):
            kinds = kind.iloc[rows].astype(str).to_numpy()
        else:
            kinds = kind.value
        parts.append(
            pd.DataFrame(
                {
                    "source_row": rows,
                    "event_type": kinds,
                    "dwell_seconds": dwell.iloc[rows].to_numpy() if dwell is not None else np.nan,
                }
            )
        )
    actions = pd.concat(parts, ignore_index=True)
    rows = actions["source_row"].to_numpy()
    line = frame.index.to_numpy()[rows]
    stamps = ts.iloc[rows].reset_index(drop=True)
    out = pd.DataFrame(
        {
            "event_id": [
                f"{source_tag}-{r}-{k}" for r, k in zip(line, actions["event_type"], strict=True)
            ],
            "ts": stamps,
            "user_id": users[rows],
            "item_id": frame[mapping.item].to_numpy()[rows],
            "event_type": actions["event_type"],
            # The row's measured value: a click's dwell, a survey's score (schema.py).
            "dwell_seconds": actions["dwell_seconds"].where(
                actions["event_type"].isin([schema.EventType.CLICK, schema.EventType.SURVEY])
            ),
            "position": pd.array([None] * len(rows), dtype="Int16"),
            "request_id": requests[rows],
            "policy": None,
            "model_version": None,
            "propensity": np.nan,
            "device": frame[mapping.device].to_numpy()[rows] if mapping.device else None,
            "hour": stamps.dt.hour.astype("int8"),
        }
    )
    table = pa.Table.from_pandas(out, preserve_index=False)
    return schema.conform(table, schema.EVENTS, str(path))


def event_pseudonyms(
    users: pd.Series, items: pd.Series, ts: pd.Series, requests: pd.Series | None, key: bytes
) -> tuple[np.ndarray, np.ndarray]:
    """Pseudonyms of the users and request ids, as every door into the platform makes them.
    Where no request id is given (None, or a null value), one user's actions on one item in
    one UTC day belong together."""
    day = ts.dt.date.astype(str)
    grouped = (users + "\x1f" + items + "\x1f" + day).to_numpy()
    raw = grouped if requests is None else np.where(requests.isna(), grouped, requests)
    return pseudonymize(users.to_numpy(), key), pseudonymize(raw, key)


def event_days(events: pa.Table) -> np.ndarray:
    """The UTC day of each event, as `datetime.date` objects."""
    stamps = events.column("ts").to_numpy().astype("datetime64[D]")
    return np.array([date.fromisoformat(str(d)) for d in stamps], dtype=object)
