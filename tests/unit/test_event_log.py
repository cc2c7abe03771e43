"""The embedded event log: micro-batches land atomically, one file per UTC day, where the daily
gate reads them; a retried batch adds nothing; a reader sees each file until it acknowledges it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from engageflow import schema
from engageflow.errors import StorageError
from engageflow.eventlog.landing import LandingLog, LandingReader
from engageflow.landing import is_imported, landing_files

D1, D2 = date(2026, 3, 1), date(2026, 3, 2)


def events(*stamps: str) -> pa.Table:
    n = len(stamps)
    frame = pd.DataFrame(
        {
            "event_id": [f"e-{s}" for s in stamps],
            "ts": pd.to_datetime(list(stamps), utc=True),
            "user_id": ["p_1"] * n,
            "item_id": ["i1"] * n,
            "event_type": ["impression"] * n,
            "dwell_seconds": [None] * n,
            "position": [0] * n,
            "request_id": ["r1"] * n,
            "policy": [None] * n,
            "model_version": [None] * n,
            "propensity": [None] * n,
            "device": [None] * n,
            "hour": [0] * n,
        }
    )
    return schema.conform(pa.Table.from_pandas(frame, preserve_index=False), schema.EVENTS, "t")


def test_a_batch_spanning_midnight_lands_one_file_per_day(tmp_path: Path) -> None:
    batch = events("2026-03-02T00:00:01Z", "2026-03-01T23:59:59Z", "2026-03-01T23:00:00Z")
    ids = LandingLog(tmp_path).append(batch)
    assert [i.split("/")[0] for i in ids] == ["date=2026-03-01", "date=2026-03-02"]
    first, second = landing_files(tmp_path, "events", D1), landing_files(tmp_path, "events", D2)
    assert len(first) == len(second) == 1
    assert pq.read_table(first[0]).column("event_id").to_pylist() == [
        "e-2026-03-01T23:00:00Z",
        "e-2026-03-01T23:59:59Z",
    ]
    assert pq.read_table(second[0]).num_rows == 1
    assert pq.read_table(first[0]).schema.metadata == schema.EVENTS.metadata
    assert not is_imported(first[0])  # a live feed: its volume is checked like simulated days
    hidden = [p for p in tmp_path.rglob("*") if p.name.startswith(".")]
    assert hidden == []  # written under a temporary name, then renamed


def test_a_retried_batch_adds_nothing(tmp_path: Path) -> None:
    log = LandingLog(tmp_path)
    batch = events("2026-03-01T10:00:00Z", "2026-03-01T10:00:05Z")
    assert log.append(batch) == log.append(batch)
    assert len(landing_files(tmp_path, "events", D1)) == 1
    log.append(events("2026-03-01T10:00:09Z"))
    assert len(landing_files(tmp_path, "events", D1)) == 2


def test_a_reader_gets_each_file_until_acked_also_after_a_restart(tmp_path: Path) -> None:
    log = LandingLog(tmp_path)
    first = log.append(events("2026-03-01T10:00:00Z"))
    second = log.append(events("2026-03-02T10:00:00Z", "2026-03-02T10:00:01Z"))
    reader = LandingReader(tmp_path, "sessions")
    read = reader.read(count=10)
    assert [e.id for e in read] == first + second
    assert [e.events.num_rows for e in read] == [1, 2]
    assert reader.read() == []  # delivered, not yet acknowledged
    reader.ack(first)
    restarted = LandingReader(tmp_path, "sessions")  # unacknowledged entries come again
    assert [e.id for e in restarted.read()] == second
    restarted.ack(second)
    assert LandingReader(tmp_path, "sessions").read() == []
    assert len(LandingReader(tmp_path, "other-group").read()) == 2  # groups are independent


def test_a_refused_write_lands_nothing_of_the_batch_and_keeps_earlier_files(
    tmp_path: Path,
) -> None:
    log = LandingLog(tmp_path)
    earlier = log.append(events("2026-03-01T10:00:00Z"))
    # A file where day 2's folder should be: its write is refused (StorageError).
    (tmp_path / "landing" / "events" / "date=2026-03-02").write_text("in the way")
    same_first_day = events("2026-03-01T10:00:00Z", "2026-03-02T10:00:00Z")
    new_first_day = events("2026-03-01T11:00:00Z", "2026-03-02T10:00:00Z")
    for batch in (same_first_day, new_first_day):
        with pytest.raises(StorageError):
            log.append(batch)
    assert [f.name for f in landing_files(tmp_path, "events", D1)] == [earlier[0].split("/")[1]]
    assert [p.name for p in tmp_path.rglob(".*")] == []
