"""Bad inputs planted next to a good simulated day in the landing zone (shared by test suites)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv
import pyarrow.parquet as pq

from engageflow import lake
from engageflow.app.simulate import EVENTS_FILE

SAMPLE = 12  # rows of the good day copied into each planted file


@dataclass(frozen=True)
class BadInput:
    plant: Callable[[Path, pa.Table, date], Path]  # (landing folder, good rows, day) -> file
    batch: bool  # True: the run must fail; False: rows are quarantined and the run passes
    bad_rows: int = 0  # rows to quarantine (row-level cases)
    check: str = ""  # the failed check (row-level) or a phrase of the problem (batch-level)


def sample(table: pa.Table) -> pa.Table:
    """Fresh copies of a few good events: new event ids, so only the planted fault differs."""
    rows = table.slice(0, SAMPLE)
    ids = pc.binary_join_element_wise("planted-", rows["event_id"], "")
    return rows.set_column(0, "event_id", ids)


def with_column(rows: pa.Table, name: str, values: list) -> pa.Table:
    """`rows` with column `name` replaced by `values`, the column made nullable text if needed."""
    index = rows.schema.get_field_index(name)
    try:
        array = pa.array(values, rows.schema.field(name).type)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        array = pa.array([None if v is None else str(v) for v in values], pa.string())
    return rows.set_column(index, pa.field(name, array.type), array)


def _parquet(name: str, change: Callable[[pa.Table, date], pa.Table]):
    def plant(folder: Path, good: pa.Table, day: date) -> Path:
        path = folder / name
        pq.write_table(change(sample(good), day), path)
        return path

    return plant


def _csv(name: str, change: Callable[[pa.Table, date], pa.Table], encoding: str = "utf-8"):
    def plant(folder: Path, good: pa.Table, day: date) -> Path:
        rows = change(sample(good), day)
        text = _to_csv_text(rows)
        path = folder / name
        path.write_bytes(text.encode(encoding))
        return path

    return plant


def _to_csv_text(rows: pa.Table) -> str:
    sink = pa.BufferOutputStream()
    pv.write_csv(rows, sink)
    return sink.getvalue().to_pybytes().decode("utf-8")


def _first(rows: pa.Table, name: str, n: int, value: object) -> pa.Table:
    values = rows[name].to_pylist()
    return with_column(rows, name, [value] * n + values[n:])


def _truncated(folder: Path, good: pa.Table, day: date) -> Path:
    whole = folder / "truncated.tmpdata"
    pq.write_table(sample(good), whole)
    path = folder / "truncated.parquet"
    path.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    whole.unlink()
    return path


def _empty(folder: Path, good: pa.Table, day: date) -> Path:
    path = folder / "empty.parquet"
    path.write_bytes(b"")
    return path


def _wrong_types(rows: pa.Table, day: date) -> pa.Table:
    rows = _first(rows, "dwell_seconds", 1, "abc")
    ts = rows["ts"].cast(pa.string()).to_pylist()
    return with_column(rows, "ts", [ts[0], "yesterday", *ts[2:]])


BAD_INPUTS = {
    "wrong_types": BadInput(
        _csv("types.csv", _wrong_types),
        False,
        2,
        "expect_column_values_to_be_null(conversion_errors)",
    ),
    "nulls": BadInput(
        _parquet("nulls.parquet", lambda r, d: _first(r, "user_id", 3, None)),
        False,
        3,
        "expect_column_values_to_not_be_null(user_id)",
    ),
    "negative_dwell": BadInput(
        _csv("dwell.csv", lambda r, d: _first(r, "dwell_seconds", 2, -4.5)),
        False,
        2,
        "expect_column_values_to_be_between(dwell_seconds)",
    ),
    "duplicate_ids": BadInput(
        _parquet("dupes.parquet", lambda r, d: _first(r, "event_id", 4, "planted-dup")),
        False,
        4,
        "expect_column_values_to_be_unique(event_id)",
    ),
    "future_timestamps": BadInput(
        _parquet(
            "future.parquet",
            lambda r, d: _first(r, "ts", 5, lake.day_bounds(d)[1] + timedelta(hours=3)),
        ),
        False,
        5,
        "expect_column_values_to_be_between(ts)",
    ),
    "unknown_items": BadInput(
        _csv("ghosts.csv", lambda r, d: _first(r, "item_id", 3, "ghost-item")),
        False,
        3,
        "expect_column_values_to_be_in_set(item_id)",
    ),
    "empty_file": BadInput(_empty, True, check="empty (0 bytes)"),
    "truncated_file": BadInput(_truncated, True, check="unreadable"),
    "wrong_encoding": BadInput(
        _csv("latin1.csv", lambda r, d: _first(r, "user_id", 1, "josé"), "latin-1"),
        True,
        check="unreadable",
    ),
    "extra_column": BadInput(
        _csv("extra.csv", lambda r, d: r.append_column("country", pa.array(["FR"] * r.num_rows))),
        True,
        check="unexpected ['country']",
    ),
    "missing_column": BadInput(
        _parquet("missing.parquet", lambda r, d: r.drop_columns(["device"])),
        True,
        check="missing ['device']",
    ),
}


def good_events(root: Path, day: date) -> pa.Table:
    return pq.read_table(lake.partition_dir(root, "landing", "events", day) / EVENTS_FILE)
