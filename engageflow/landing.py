"""Read the landing zone as it is: Parquet and CSV drops, with every value kept for the record.

Landing files are never modified. A file that cannot be read is reported, not raised, so the
quality gate can quarantine it; values that do not convert to the contract's types become nulls
in the typed table and are named, per row, in its `conversion_errors` column.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv
import pyarrow.parquet as pq

from engageflow import lake

PATTERNS = ("*.parquet", "*.csv")
# An import names its files after the source's content: imp<12 hex digits>.parquet.
IMPORTED = re.compile(r"imp[0-9a-f]{12}\.parquet")
CONVERSION_ERRORS = "conversion_errors"
# A timestamp must say its zone; a naive one in a CSV drop is ambiguous, so it does not convert.
_ZONED = r"(?:Z|[+-]\d{2}:?\d{2})$"


@dataclass(frozen=True)
class LandedFile:
    path: Path
    table: pa.Table | None  # the file's own columns and values; None when unreadable
    error: str | None = None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def rows(self) -> int:
        return self.table.num_rows if self.table is not None else 0


def imported_name(content: bytes) -> str:
    """The landed file name of an import of `content` (a re-import replaces, never adds)."""
    return f"imp{hashlib.sha256(content).hexdigest()[:12]}.parquet"


def is_imported(path: Path) -> bool:
    """Whether an import landed this file: a whole day of a complete log, not a live feed."""
    return IMPORTED.fullmatch(path.name) is not None


def landing_files(root: Path, dataset: str, day: date) -> list[Path]:
    """The day's Parquet and CSV files in name order; hidden (temporary) files are skipped."""
    folder = lake.partition_dir(root, "landing", dataset, day)
    found = {p for pattern in PATTERNS for p in folder.glob(pattern) if not p.name.startswith(".")}
    return sorted(found)


def read_landed(path: Path) -> LandedFile:
    """Read one landing file (CSV: UTF-8 with a header, every value as text)."""
    try:
        if path.stat().st_size == 0:
            return LandedFile(path, None, "the file is empty (0 bytes)")
        table = _read_csv(path) if path.suffix == ".csv" else pq.read_table(path)
    except (pa.ArrowException, OSError, UnicodeDecodeError, ValueError) as err:
        return LandedFile(path, None, f"unreadable: {err}")
    return LandedFile(path, table)


def _read_csv(path: Path) -> pa.Table:
    with path.open(encoding="utf-8") as handle:  # fails early on bytes that are not UTF-8
        header = next(csv.reader(handle), [])
    # An empty field is a missing value, as in every CSV export we know of.
    as_text = pv.ConvertOptions(
        column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=True
    )
    return pv.read_csv(path, convert_options=as_text)


def typed(table: pa.Table, contract: pa.Schema) -> pa.Table:
    """`table` in the contract's columns and types (all nullable) plus `conversion_errors`."""
    columns, failures = [], {}
    for field in contract:
        values, failed = _convert(table.column(field.name), field.type)
        columns.append(values)
        failures[field.name] = failed
    errors = np.full(table.num_rows, None, dtype=object)
    for row in np.flatnonzero(
        np.logical_or.reduce([np.zeros(table.num_rows, bool), *failures.values()])
    ):
        errors[row] = "; ".join(
            f"{name} does not convert to {contract.field(name).type}"
            for name, failed in failures.items()
            if failed[row]
        )
    loose = pa.schema([pa.field(f.name, f.type) for f in contract])
    out = pa.Table.from_arrays(columns, schema=loose)
    return out.append_column(CONVERSION_ERRORS, pa.array(errors, pa.string()))


def _convert(column: pa.ChunkedArray, target: pa.DataType) -> tuple[pa.Array, np.ndarray]:
    """The column cast to `target`, and a mask of values that were present but did not convert."""
    try:
        return column.cast(target).combine_chunks(), np.zeros(len(column), bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    text = _as_text(column).to_pandas()
    if pa.types.is_list(target):  # a list written as text in a CSV: "[3, 7]"
        values = text.map(_json_list)
        failed = (text.notna() & values.isna()).to_numpy()
        return pa.array(values.where(values.notna(), None), type=target), failed
    if pa.types.is_timestamp(target):
        values = pd.to_datetime(text, errors="coerce", utc=True, format="ISO8601")
        values = values.where(text.str.strip().str.contains(_ZONED, na=False))
    else:
        values = pd.to_numeric(text, errors="coerce")
        if pa.types.is_integer(target):
            info = np.iinfo(target.to_pandas_dtype())
            fits = (values % 1 == 0) & values.between(info.min, info.max)
            values = values.where(fits).astype("Int64")
    failed = (text.notna() & values.isna()).to_numpy()
    return pa.array(values, type=target, from_pandas=True), failed


def take_as_text(table: pa.Table, rows: list[int], names: list[str]) -> pa.Table:
    """Rows of a landed table with their original values as text, in the contract's order."""
    picked = table.take(pa.array(rows, pa.int64())).select(names)
    return pa.table({name: _as_text(picked.column(name)) for name in names})


def _as_text(column: pa.ChunkedArray) -> pa.ChunkedArray | pa.Array:
    """Values as text; lists (which Arrow cannot cast to text) as their JSON."""
    if pa.types.is_list(column.type):
        return pa.array([None if v is None else json.dumps(v) for v in column.to_pylist()])
    return pc.cast(column, pa.string())


def _json_list(text: str | None) -> list | None:
    """A JSON list of numbers, or None when `text` is missing or is not one."""
    try:
        value = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None
    ok = isinstance(value, list) and all(isinstance(v, int | float) for v in value)
    return value if ok else None
