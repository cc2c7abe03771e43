"""The embedded event log: each accepted batch lands as Parquet micro-batches, one file per UTC
day it spans, in `landing/events/date=D/`, so the daily `ingest_events` gates collected events
exactly like simulated and imported ones.

Files are written under a hidden temporary name, then renamed (`lake.write_atomic`), so a
reader never sees half a file. Names are `col<UTC write time>-<content hash>.parquet`: the time
orders them, and the hash makes a client's retry of the same batch a no-op instead of a
duplicate. They never match `landing.is_imported`: a collected day is a live feed, and its
volume is checked against the recent days.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from engageflow import lake
from engageflow.errors import StorageError
from engageflow.eventlog import Entry, to_ipc
from engageflow.importer.land import event_days
from engageflow.schema import TIME_ORDER

PREFIX = "col"
COLLECTED = re.compile(r"col\d{8}T\d{12}-([0-9a-f]{16})\.parquet")


def content_hash(table: pa.Table) -> str:
    """16 hex digits of SHA-256 over the table's Arrow IPC bytes (equal tables, equal hash)."""
    return hashlib.sha256(to_ipc(table)).hexdigest()[:16]


def split_days(events: pa.Table) -> dict[date, pa.Table]:
    """The batch's rows per UTC day, each in the time order of every events file."""
    days = event_days(events)
    return {
        day: events.filter(pa.array(days == day)).sort_by(TIME_ORDER) for day in sorted(set(days))
    }


class LandingLog:
    """Appends batches as landing files; an entry id is `date=D/<file name>`."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def append(self, events: pa.Table) -> list[str]:
        """One file per day of the batch; all of them or, on a refused write, none."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        written: list[Path] = []
        created: list[Path] = []
        try:
            for day, table in split_days(events).items():
                folder = lake.partition_dir(self.root, "landing", "events", day)
                digest = content_hash(table)
                # The same rows again (a client's retry): keep the file already there.
                if found := sorted(folder.glob(f"{PREFIX}*-{digest}.parquet")):
                    written.append(found[0])
                    continue
                path = folder / f"{PREFIX}{stamp}-{digest}.parquet"
                written.append(lake.write_atomic(table, path))
                created.append(path)
        except StorageError:
            # A batch is accepted whole or not at all; files an earlier batch landed stay.
            for path in created:
                path.unlink(missing_ok=True)
            raise
        return [f"{p.parent.name}/{p.name}" for p in written]


class LandingReader:
    """Reads collected landing files not yet acknowledged by `group` (a list of done ids)."""

    def __init__(self, root: Path, group: str) -> None:
        self.root = root
        self.acked_file = root / "eventlog" / f"{group}.acked"
        self._delivered: set[str] = set()

    def read(self, count: int = 100, block_ms: int = 0) -> list[Entry]:
        """Unacknowledged collected files, oldest day and write time first (`block_ms` is
        ignored: files are listed, not waited for)."""
        done = self._acked() | self._delivered
        entries = []
        for day in sorted(lake.partition_days(self.root, "landing", "events")):
            folder = lake.partition_dir(self.root, "landing", "events", day)
            for path in sorted(folder.glob(f"{PREFIX}*.parquet")):
                entry_id = f"{folder.name}/{path.name}"
                if COLLECTED.fullmatch(path.name) and entry_id not in done:
                    entries.append(Entry(entry_id, pq.read_table(path)))
                    if len(entries) == count:
                        break
            if len(entries) == count:
                break
        self._delivered.update(e.id for e in entries)
        return entries

    def ack(self, ids: Sequence[str]) -> None:
        self.acked_file.parent.mkdir(parents=True, exist_ok=True)
        with self.acked_file.open("a") as out:
            out.writelines(f"{i}\n" for i in ids)

    def _acked(self) -> set[str]:
        if not self.acked_file.exists():
            return set()
        return set(self.acked_file.read_text().split())
