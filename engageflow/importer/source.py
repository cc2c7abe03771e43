"""Reading a source log (CSV or Parquet): only the mapped columns, as text, with the row numbers
that error messages use; files that cannot be read become an `ImportInputError`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from engageflow.importer.mapping import ImportInputError


@dataclass(frozen=True)
class Source:
    """The mapped columns of the rows to import (index: row number in the file, header = 1) and
    how many rows were read in all, blank ones included."""

    frame: pd.DataFrame
    rows: int

    @property
    def blank(self) -> int:
        """Rows whose mapped cells are all empty (a blank line in a CSV): skipped, and counted."""
        return self.rows - len(self.frame)


def read_source(path: Path, columns: list[str]) -> Source:
    """The rows of `path` whose mapped cells are not all empty, as strings."""
    if not path.is_file():
        raise ImportInputError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise ImportInputError(f"{path}: the file is empty (0 bytes); nothing to import")
    try:
        if path.suffix.lower() == ".parquet":
            frame = _read_parquet(path, columns)
        else:
            frame = _read_csv(path, columns)
    except UnicodeDecodeError as err:
        raise ImportInputError(
            f"{path}: not UTF-8 text (byte {err.start}: {err.reason}). "
            "Re-encode it, e.g. `iconv -f latin1 -t utf-8`."
        ) from err
    except (pd.errors.ParserError, pd.errors.EmptyDataError, pa.ArrowException, OSError) as err:
        kind = "Parquet" if path.suffix.lower() == ".parquet" else "CSV"
        raise ImportInputError(f"{path}: cannot be parsed as {kind}: {err}") from err
    frame.index = frame.index + (1 if path.suffix.lower() == ".parquet" else 2)
    rows = len(frame)
    frame = frame[frame.notna().any(axis=1)]
    if frame.empty:
        raise ImportInputError(f"{path}: has a header but no rows; nothing to import")
    return Source(frame, rows)


def _read_csv(path: Path, columns: list[str]) -> pd.DataFrame:
    # The header as written (pandas would rename a repeated name to "name.1").
    header = pd.read_csv(path, nrows=1, header=None, dtype="string", encoding="utf-8-sig")
    _require(path, columns, [str(v) for v in header.iloc[0].tolist()] if len(header) else [])
    # Every column is read (then only the mapped ones kept): with `usecols`, pandas drops the
    # extra fields of a row longer than the header without a word.
    frame = pd.read_csv(
        path,
        dtype="string",
        encoding="utf-8-sig",  # a byte-order mark is not part of the first column's name
        keep_default_na=False,
        na_values=[""],
        skip_blank_lines=False,  # keeps row numbers true to the file; blank rows counted
    )
    if not isinstance(frame.index, pd.RangeIndex):  # pandas took the extra fields as an index
        raise ImportInputError(
            f"{path}: row 2 has more fields than the header's {len(frame.columns)}, so the "
            "columns do not line up (an unquoted comma?). Quote such fields, then import again."
        )
    return frame[columns]


def _read_parquet(path: Path, columns: list[str]) -> pd.DataFrame:
    _require(path, columns, pq.read_schema(path).names)
    table = pq.read_table(path, columns=columns)
    frame = pd.DataFrame({c: _text(path, table.column(c), c) for c in columns})
    return frame.replace("", pd.NA)  # an empty string is as empty as a CSV's empty cell


def _text(path: Path, column: pa.ChunkedArray, name: str) -> pd.Series:
    try:
        return column.to_pandas().astype("string")
    except UnicodeDecodeError as err:
        raise ImportInputError(
            f"{path}, column {name!r}: holds bytes that are not UTF-8 text ({err.reason}); "
            "store it as a string column"
        ) from err


def _require(path: Path, columns: list[str], available: list[str]) -> None:
    missing = [c for c in columns if c not in available]
    if missing:
        raise ImportInputError(
            f"{path}: mapped column(s) {missing} not found; the file has {available}. "
            "Fix the column mapping (--user/--item/--timestamp/...)."
        )
    repeated = [c for c in columns if available.count(c) > 1]
    if repeated:
        raise ImportInputError(
            f"{path}: mapped column(s) {repeated} appear more than once in the header, so which "
            "one is meant is unclear. Rename or drop the copies, then import again."
        )
