"""The data dir's partition layout `<area>/<dataset>/date=YYYY-MM-DD/` and atomic Parquet writes.

Every write lands under a temporary name and is renamed into place (`os.replace`, atomic on one
file system), so readers never see half a file and a rerun replaces rather than adds.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from engageflow.errors import DataError, StorageError

PART_FILE = "part-0.parquet"


class PartitionUnreadable(DataError):
    """A stored partition file cannot be read (damaged outside the pipeline's atomic writes)."""


def partition_dir(root: Path, area: str, dataset: str, day: date) -> Path:
    return root / area / dataset / f"date={day.isoformat()}"


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC interval [day, day + 1) that a daily run owns."""
    start = datetime.combine(day, time(), tzinfo=UTC)
    return start, start + timedelta(days=1)


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A hidden temporary name to write `path` under; renamed into place only if the block ends.

    A crash leaves at most `.<name>.<hex>.tmp`, which no reader lists (hidden, not `*.parquet`);
    a refused write (disk full, read-only) raises StorageError and leaves nothing.
    """
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        yield tmp
        os.replace(tmp, path)
    except StorageError:
        raise
    except OSError as err:  # disk full, read-only, a file where a folder should be
        raise StorageError.writing(path, err) from err
    finally:
        with suppress(OSError):
            tmp.unlink(missing_ok=True)


def write_atomic(table: pa.Table, path: Path) -> Path:
    """Write one Parquet file at `path`, replacing any previous version atomically."""
    with atomic_path(path) as tmp:
        # Statistics and a fixed writer make reruns byte-identical for identical tables.
        pq.write_table(table, tmp, compression="zstd", write_statistics=True)
    return path


def write_text_atomic(text: str, path: Path) -> Path:
    """Write a text file at `path`, replacing any previous version atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return path


def write_partition(table: pa.Table, root: Path, area: str, dataset: str, day: date) -> Path:
    """Replace the whole partition with `table` (a partition is one file, so this is atomic)."""
    return write_atomic(table, partition_dir(root, area, dataset, day) / PART_FILE)


def partition_files(root: Path, area: str, dataset: str, day: date) -> list[Path]:
    """The Parquet files of a partition, in name order; temporary files are never listed."""
    folder = partition_dir(root, area, dataset, day)
    return sorted(p for p in folder.glob("*.parquet") if not p.name.startswith("."))


def read_partition(
    root: Path, area: str, dataset: str, day: date, schema: pa.Schema | None = None
) -> pa.Table | None:
    """All files of a partition as one table, or None when the partition does not exist."""
    files = partition_files(root, area, dataset, day)
    if not files:
        return None
    tables = []
    for file in files:
        try:
            tables.append(pq.read_table(file, schema=schema))
        except (pa.ArrowInvalid, OSError) as err:
            raise PartitionUnreadable(
                f"{file} is unreadable ({err}); it was damaged outside engageflow's writes. "
                f"Rerun the step that writes {area}/{dataset} for {day} (for the lake: ingest it)."
            ) from err
    return pa.concat_tables(tables) if len(tables) > 1 else tables[0]


def days_between(first: date, last: date) -> list[date]:
    """Every day from `first` through `last`, in order (none when `last` is earlier)."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def partition_days(root: Path, area: str, dataset: str) -> Iterator[date]:
    """Days whose partition holds a file, oldest first (a crashed first write leaves none)."""
    base = root / area / dataset
    for folder in sorted(base.glob("date=*")):
        day = date.fromisoformat(folder.name.removeprefix("date="))
        if partition_files(root, area, dataset, day):
            yield day
