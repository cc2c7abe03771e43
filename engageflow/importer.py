"""Import real interaction logs (CSV or Parquet) into the landing zone in the event schema.

A column mapping says which source column is the user, item and timestamp, and how the action is
recorded: an event-type column, a rating (impression + click, plus like or hide by threshold) or
a dwell time (impression, plus a click when dwell > 0). Users and request ids are pseudonymized
here, unmapped columns are never read into storage, and every check runs before the first write.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from engageflow import lake, schema
from engageflow.errors import DataError
from engageflow.pseudonym import load_key, pseudonymize
from engageflow.schema import TIME_ORDER, EventType
from engageflow.settings import Settings

EVENT_ALIASES = {
    "view": EventType.IMPRESSION,
    "impression": EventType.IMPRESSION,
    "click": EventType.CLICK,
    "open": EventType.CLICK,
    "play": EventType.CLICK,
    "like": EventType.LIKE,
    "favorite": EventType.LIKE,
    "share": EventType.SHARE,
    "hide": EventType.HIDE,
    "dismiss": EventType.HIDE,
    "report": EventType.REPORT,
}


class ImportInputError(DataError, ValueError):
    """Bad input: the message names the file, the row and the column, and what to do."""


@dataclass(frozen=True)
class ColumnMapping:
    user: str
    item: str
    timestamp: str
    event: str | None = None
    rating: str | None = None
    dwell: str | None = None
    request: str | None = None
    device: str | None = None
    event_values: dict[str, str] = field(default_factory=dict)  # source value -> event type
    like_rating: float = 4.0
    hide_rating: float = 2.0

    def sources(self) -> list[str]:
        named = [
            self.user,
            self.item,
            self.timestamp,
            self.event,
            self.rating,
            self.dwell,
            self.request,
            self.device,
        ]
        return [c for c in named if c is not None]


@dataclass(frozen=True)
class Imported:
    rows: int
    events: int
    files: list[Path]


def read_source(path: Path, columns: list[str]) -> tuple[pd.DataFrame, int]:
    """The mapped columns as strings, and the line number of the first data row (for errors)."""
    if not path.is_file():
        raise ImportInputError(f"{path}: no such file")
    available: list[str]
    try:
        if path.suffix.lower() == ".parquet":
            available = pq.read_schema(path).names
            _require(path, columns, available)
            frame = pq.read_table(path, columns=columns).to_pandas().astype("string")
            return frame, 1
        head = pd.read_csv(path, nrows=0, encoding="utf-8")
        available = list(head.columns)
        _require(path, columns, available)
        frame = pd.read_csv(
            path,
            usecols=columns,
            dtype="string",
            encoding="utf-8",
            keep_default_na=False,
            na_values=[""],
        )
        return frame, 2
    except UnicodeDecodeError as err:
        raise ImportInputError(
            f"{path}: not UTF-8 text (byte {err.start}: {err.reason}). "
            "Re-encode it, e.g. `iconv -f latin1 -t utf-8`."
        ) from err
    except (pd.errors.ParserError, pa.ArrowInvalid, OSError) as err:
        kind = path.suffix or "CSV"
        raise ImportInputError(f"{path}: cannot be parsed as {kind}: {err}") from err


def _require(path: Path, columns: list[str], available: list[str]) -> None:
    missing = [c for c in columns if c not in available]
    if missing:
        raise ImportInputError(
            f"{path}: mapped column(s) {missing} not found; the file has {available}. "
            "Fix the column mapping (--user/--item/--timestamp/...)."
        )


def _fail_at(
    path: Path, first_line: int, frame: pd.DataFrame, bad: pd.Series, column: str, what: str
) -> None:
    if bad.any():
        rows = np.flatnonzero(bad.to_numpy())
        value = frame[column].iloc[rows[0]]
        raise ImportInputError(
            f"{path}, row {rows[0] + first_line}, column {column!r}: {what} (got {value!r}); "
            f"{len(rows)} row(s) affected. Fix the source or the mapping, then import again."
        )


def _timestamps(path: Path, first_line: int, frame: pd.DataFrame, column: str) -> pd.Series:
    raw = frame[column]
    _fail_at(path, first_line, frame, raw.isna(), column, "timestamp is empty")
    numeric = pd.to_numeric(raw, errors="coerce")
    if numeric.notna().all():
        # Epoch seconds, or milliseconds when the numbers are too large to be seconds.
        unit = "ms" if numeric.abs().max() > 1e11 else "s"
        parsed = pd.to_datetime(numeric, unit=unit, utc=True)
    else:
        parsed = pd.to_datetime(raw, utc=True, errors="coerce", format="ISO8601")
    _fail_at(
        path,
        first_line,
        frame,
        parsed.isna(),
        column,
        "not a timestamp (use ISO 8601 or epoch seconds)",
    )
    return parsed.dt.as_unit("us")


def _numbers(
    path: Path, first_line: int, frame: pd.DataFrame, column: str, required: bool = True
) -> pd.Series:
    values = pd.to_numeric(frame[column], errors="coerce")
    given = frame[column].notna()
    _fail_at(path, first_line, frame, values.isna() & given, column, "not a number")
    if required:
        _fail_at(path, first_line, frame, ~given, column, "value is empty")
    return values


Action = tuple[np.ndarray, EventType | pd.Series, pd.Series | None]


def _actions(
    path: Path, first_line: int, frame: pd.DataFrame, mapping: ColumnMapping
) -> list[Action]:
    """(source rows, event type, dwell) triples that together make the events."""
    every = np.arange(len(frame))
    if mapping.event:
        aliases = {**EVENT_ALIASES, **{k: EventType(v) for k, v in mapping.event_values.items()}}
        kinds = frame[mapping.event].str.strip().str.lower().map(aliases)
        _fail_at(
            path,
            first_line,
            frame,
            kinds.isna(),
            mapping.event,
            f"unknown event type; known: {sorted(aliases)} (add --event-value SRC=TYPE)",
        )
        dwell = None
        if mapping.dwell:
            dwell = _numbers(path, first_line, frame, mapping.dwell, required=False)
            _fail_at(path, first_line, frame, dwell < 0, mapping.dwell, "dwell is negative")
        return [(every, kinds, dwell)]
    if mapping.rating:
        rating = _numbers(path, first_line, frame, mapping.rating)
        return [
            (every, EventType.IMPRESSION, None),
            (every, EventType.CLICK, None),
            (np.flatnonzero(rating >= mapping.like_rating), EventType.LIKE, None),
            (np.flatnonzero(rating <= mapping.hide_rating), EventType.HIDE, None),
        ]
    if mapping.dwell:
        dwell = _numbers(path, first_line, frame, mapping.dwell)
        _fail_at(path, first_line, frame, dwell < 0, mapping.dwell, "dwell is negative")
        return [
            (every, EventType.IMPRESSION, None),
            (np.flatnonzero(dwell > 0), EventType.CLICK, dwell),
        ]
    raise ImportInputError(
        f"{path}: the mapping names no action column: give --event, --rating or --dwell"
    )


def to_events(
    path: Path,
    frame: pd.DataFrame,
    first_line: int,
    mapping: ColumnMapping,
    key: bytes,
    source_tag: str,
) -> pa.Table:
    """Source rows -> event rows in the schema, with users and request ids pseudonymized."""
    for column in (mapping.user, mapping.item):
        _fail_at(path, first_line, frame, frame[column].isna(), column, "identifier is empty")
    ts = _timestamps(path, first_line, frame, mapping.timestamp)
    users = pseudonymize(frame[mapping.user].to_numpy(), key)
    if mapping.request:
        requests = pseudonymize(frame[mapping.request].fillna("").to_numpy(), key)
    else:
        # Without a request id, one user's actions on one item in one day belong together.
        day = ts.dt.date.astype(str)
        joined = frame[mapping.user] + "\x1f" + frame[mapping.item] + "\x1f" + day
        requests = pseudonymize(joined.to_numpy(), key)
    parts = []
    for rows, kind, dwell in _actions(path, first_line, frame, mapping):
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
    stamps = ts.iloc[rows].reset_index(drop=True)
    out = pd.DataFrame(
        {
            "event_id": [
                f"{source_tag}-{r}-{k}" for r, k in zip(rows, actions["event_type"], strict=True)
            ],
            "ts": stamps,
            "user_id": users[rows],
            "item_id": frame[mapping.item].to_numpy()[rows],
            "event_type": actions["event_type"],
            "dwell_seconds": actions["dwell_seconds"].where(
                actions["event_type"] == EventType.CLICK
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


def import_events(settings: Settings, path: Path, mapping: ColumnMapping) -> Imported:
    """Check the whole file, then land one file per day named after the source's content hash."""
    frame, first_line = read_source(path, mapping.sources())
    if frame.empty:
        raise ImportInputError(f"{path}: has a header but no rows; nothing to import")
    source_tag = "imp" + hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    events = to_events(path, frame, first_line, mapping, load_key(settings), source_tag)
    days = event_days(events)
    written = []
    for day in sorted(set(days)):
        chunk = events.filter(pa.array(days == day)).sort_by(TIME_ORDER)
        folder = lake.partition_dir(settings.root, "landing", "events", day)
        written.append(lake.write_atomic(chunk, folder / f"{source_tag}.parquet"))
    return Imported(rows=len(frame), events=events.num_rows, files=written)


def event_days(events: pa.Table) -> np.ndarray:
    """The UTC day of each event, as `datetime.date` objects."""
    stamps = events.column("ts").to_numpy().astype("datetime64[D]")
    return np.array([date.fromisoformat(str(d)) for d in stamps], dtype=object)
