"""The collector's durable, append-only event log behind one small interface.

`EventLog.append(events)` stores one accepted batch (schema v1, pseudonymized) and returns the
ids of what it wrote; `EventReader.read()` hands a consumer the entries it has not acknowledged
yet (at least once: unacknowledged entries come again after a restart) and `ack(ids)` marks
them done. Two implementations, chosen by `settings.collector.log`:

- `landing` (embedded default, landing.py): Parquet micro-batches in
  `landing/events/date=D/`, where the daily `ingest_events` reads them like any landing file;
- `redis` (production, redis_streams.py): one Redis Streams entry per batch, read through a
  consumer group; drain.py moves the stream into the landing zone for the daily DAGs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import pyarrow as pa

from engageflow.settings import Settings


@dataclass(frozen=True)
class Entry:
    """One appended batch (or, in the landing log, one day of it) and its id in the log."""

    id: str
    events: pa.Table


class EventLog(Protocol):
    def append(self, events: pa.Table) -> list[str]:
        """Store one accepted batch durably, whole or not at all; the ids of the entries."""
        ...


class EventReader(Protocol):
    def read(self, count: int = 100, block_ms: int = 0) -> list[Entry]:
        """Up to `count` entries not yet acknowledged by this reader's group, oldest first."""
        ...

    def ack(self, ids: Sequence[str]) -> None:
        """Mark entries done: the group never reads them again."""
        ...


def to_ipc(events: pa.Table) -> bytes:
    """The table as Arrow IPC stream bytes: exact types, and equal tables give equal bytes."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, events.schema) as writer:
        writer.write_table(events)
    return sink.getvalue().to_pybytes()


def from_ipc(data: bytes) -> pa.Table:
    return pa.ipc.open_stream(pa.py_buffer(data)).read_all()


def open_log(settings: Settings) -> EventLog:
    """The log `settings.collector.log` names."""
    if settings.collector.log == "redis":
        from engageflow.eventlog.redis_streams import RedisLog

        return RedisLog.from_settings(settings.collector)
    from engageflow.eventlog.landing import LandingLog

    return LandingLog(settings.root)


def open_reader(settings: Settings, group: str, consumer: str) -> EventReader:
    """A reader of the configured log for consumer group `group` as `consumer`."""
    if settings.collector.log == "redis":
        from engageflow.eventlog.redis_streams import RedisReader

        return RedisReader.from_settings(settings.collector, group, consumer)
    from engageflow.eventlog.landing import LandingReader

    return LandingReader(settings.root, group)
