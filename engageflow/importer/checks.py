"""Every check on the rows of a source log, run before anything is written or a key is made:
identifiers, times (zone, range, not in the future) and the action columns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from engageflow.importer.mapping import EVENT_ALIASES, ColumnMapping, ImportInputError
from engageflow.schema import EventType

# An ISO 8601 time of day followed by a zone designator: Z, +hh, +hhmm or +hh:mm.
ZONE_SUFFIX = r"[T\s]\d{2}[\d:.,]*\s*(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$"
# Epoch numbers above this are milliseconds; beyond the limits they are past year 2261.
MS_FROM = 1e11
EPOCH_LIMIT = {"s": 9.2e9, "ms": 9.2e12}

NO_ACTION = "{path}: the mapping names no action column: give --event, --rating or --dwell"

Action = tuple[np.ndarray, EventType | pd.Series, pd.Series | None]


@dataclass(frozen=True)
class TimeRules:
    """How times are read: the zone of times written without one, and how far past `now` a
    time may be (clock skew) before it is refused."""

    zone: ZoneInfo | None
    now: pd.Timestamp
    tolerance: timedelta


@dataclass(frozen=True)
class Checked:
    """The checked rows: UTC times, and (source rows, event type, dwell) triples."""

    ts: pd.Series
    actions: list[Action]


def check_rows(
    path: Path, frame: pd.DataFrame, mapping: ColumnMapping, rules: TimeRules
) -> Checked:
    """Raise `ImportInputError` at the first bad cell; otherwise the rows' times and actions."""
    if not (mapping.event or mapping.rating or mapping.dwell):
        raise ImportInputError(NO_ACTION.format(path=path))
    for column in (mapping.user, mapping.item):
        fail_at(path, frame, frame[column].isna(), column, "identifier is empty")
    ts = timestamps(path, frame, mapping.timestamp, rules)
    return Checked(ts, _actions(path, frame, mapping))


def fail_at(path: Path, frame: pd.DataFrame, bad: pd.Series, column: str, what: str) -> None:
    """Raise `ImportInputError` naming the first `bad` row, its value and how many are bad."""
    mask = np.asarray(bad.to_numpy(dtype=bool, na_value=False), dtype=bool)
    if mask.any():
        rows = np.flatnonzero(mask)
        value = frame[column].iloc[rows[0]]
        raise ImportInputError(
            f"{path}, row {frame.index[rows[0]]}, column {column!r}: {what} (got {_shown(value)}); "
            f"{len(rows)} row(s) affected. Fix the source or the mapping, then import again."
        )


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:60]}... ({len(text)} characters)"


def timestamps(path: Path, frame: pd.DataFrame, column: str, rules: TimeRules) -> pd.Series:
    """The column's times in UTC (ISO 8601 or epoch), each checked against `rules`."""
    raw = frame[column].str.strip()
    fail_at(path, frame, raw.isna(), column, "timestamp is empty")
    numeric = pd.to_numeric(raw, errors="coerce")
    if numeric.notna().all():
        parsed = _epoch(path, frame, column, _floats(numeric))
    else:
        parsed = pd.to_datetime(raw, utc=True, errors="coerce", format="ISO8601")
        fail_at(
            path, frame, parsed.isna(), column, "not a timestamp (use ISO 8601 or epoch seconds)"
        )
        parsed = _localize_bare(path, frame, column, raw, parsed, rules.zone)
    limit = rules.now + rules.tolerance
    fail_at(
        path,
        frame,
        parsed > limit,
        column,
        f"time is in the future, after {limit.isoformat()} (now plus importer.future_tolerance, "
        f"{rules.tolerance}); fix the source's clock, or raise "
        "ENGAGEFLOW_IMPORTER__FUTURE_TOLERANCE",
    )
    return parsed.dt.as_unit("us")


def _epoch(path: Path, frame: pd.DataFrame, column: str, numbers: pd.Series) -> pd.Series:
    """Epoch seconds, or milliseconds when the numbers are too large to be seconds."""
    size = numbers.abs()
    unit = "ms" if size.max() > MS_FROM else "s"
    fail_at(
        path,
        frame,
        ~(size < EPOCH_LIMIT[unit]),  # NaN and infinity too
        column,
        f"epoch time out of range (read as {unit} since 1970, it is not before year 2262)",
    )
    fail_at(
        path,
        frame,
        size < MS_FROM if unit == "ms" else pd.Series(False, index=frame.index),
        column,
        "epoch seconds among milliseconds (as milliseconds this is before 1973-03-03); "
        "write every time in one unit",
    )
    return pd.to_datetime(numbers, unit=unit, utc=True)


def _localize_bare(
    path: Path,
    frame: pd.DataFrame,
    column: str,
    raw: pd.Series,
    parsed: pd.Series,
    zone: ZoneInfo | None,
) -> pd.Series:
    """Times written without a zone, read in `zone`; refused when no zone was given."""
    bare = ~raw.str.contains(ZONE_SUFFIX, regex=True).to_numpy(dtype=bool, na_value=False)
    if not bare.any():
        return parsed
    if zone is None:
        fail_at(
            path,
            frame,
            pd.Series(bare, index=frame.index),
            column,
            "time has no zone; pass --timezone with the zone it was written in (an IANA name "
            "such as Europe/Berlin or UTC), or write it with Z or an offset like +01:00",
        )
    wall = parsed.dt.tz_localize(None)  # naive strings were read as UTC: their wall time
    local = wall.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
    fail_at(
        path,
        frame,
        pd.Series(bare, index=frame.index) & local.isna(),
        column,
        f"this wall time does not exist or occurs twice in {zone} (a daylight-saving change); "
        "write it with an offset like +01:00",
    )
    return parsed.where(~bare, local)


def _floats(values: pd.Series) -> pd.Series:
    """Numbers as float64 with NaN for missing, so comparisons are plain booleans."""
    return pd.Series(
        values.astype("Float64").to_numpy(dtype="float64", na_value=np.nan), index=values.index
    )


def numbers(path: Path, frame: pd.DataFrame, column: str, required: bool = True) -> pd.Series:
    """The column as finite floats (NaN where empty, refused when `required`)."""
    values = _floats(pd.to_numeric(frame[column].str.strip(), errors="coerce"))
    given = frame[column].notna()
    fail_at(path, frame, values.isna() & given, column, "not a number")
    fail_at(path, frame, given & ~np.isfinite(values.fillna(0)), column, "not a finite number")
    if required:
        fail_at(path, frame, ~given, column, "value is empty")
    return values


def _actions(path: Path, frame: pd.DataFrame, mapping: ColumnMapping) -> list[Action]:
    """(source rows, event type, dwell) triples that together make the events."""
    every = np.arange(len(frame))
    if mapping.event:
        aliases = {**EVENT_ALIASES, **_custom_events(mapping.event_values)}
        kinds = frame[mapping.event].str.strip().str.lower().map(aliases)
        fail_at(
            path,
            frame,
            kinds.isna(),
            mapping.event,
            f"unknown event type; known: {sorted(aliases)} (add --event-value SRC=TYPE)",
        )
        dwell = None
        if mapping.dwell:
            dwell = numbers(path, frame, mapping.dwell, required=False)
            fail_at(path, frame, dwell < 0, mapping.dwell, "dwell is negative")
        return [(every, kinds, dwell)]
    if mapping.rating:
        rating = numbers(path, frame, mapping.rating)
        return [
            (every, EventType.IMPRESSION, None),
            (every, EventType.CLICK, None),
            (np.flatnonzero(rating >= mapping.like_rating), EventType.LIKE, None),
            (np.flatnonzero(rating <= mapping.hide_rating), EventType.HIDE, None),
        ]
    if not mapping.dwell:
        raise ImportInputError(NO_ACTION.format(path=path))
    dwell = numbers(path, frame, mapping.dwell)
    fail_at(path, frame, dwell < 0, mapping.dwell, "dwell is negative")
    return [
        (every, EventType.IMPRESSION, None),
        (np.flatnonzero(dwell > 0), EventType.CLICK, dwell),
    ]


def _custom_events(values: dict[str, str]) -> dict[str, EventType]:
    """--event-value SRC=TYPE pairs, matched like the source values (trimmed, lower case)."""
    known = [kind.value for kind in EventType]
    for source, kind in values.items():
        if kind.strip().lower() not in known:
            raise ImportInputError(
                f"--event-value {source}={kind}: {kind!r} is not an event type; use one of {known}"
            )
    return {k.strip().lower(): EventType(v.strip().lower()) for k, v in values.items()}
