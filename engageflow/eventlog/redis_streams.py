"""The production event log: Redis Streams. One stream entry per accepted batch (its rows as
Arrow IPC bytes, so types survive exactly), read through consumer groups.

A single XADD is atomic, so a batch is in the stream whole or not at all. Readers get their
own pending entries first (delivered before a crash, never acknowledged), then new ones: at
least once. The stream is trimmed to about `collector.max_stream_entries` entries.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import redis

from engageflow.eventlog import Entry, from_ipc, to_ipc
from engageflow.settings import CollectorConfig

FIELD = b"arrow"


class RedisLog:
    """Appends each batch as one entry of `stream`."""

    def __init__(self, client: redis.Redis, stream: str, max_entries: int) -> None:
        self.client, self.stream, self.max_entries = client, stream, max_entries

    @classmethod
    def from_settings(cls, config: CollectorConfig) -> RedisLog:
        client = redis.Redis.from_url(config.redis_url)
        return cls(client, config.stream, config.max_stream_entries)

    def append(self, events: pa.Table) -> list[str]:
        entry = self.client.xadd(
            self.stream, {FIELD: to_ipc(events)}, maxlen=self.max_entries, approximate=True
        )
        return [entry.decode()]


class RedisReader:
    """Reads `stream` as `consumer` of `group` (the group is created on first use)."""

    def __init__(self, client: redis.Redis, stream: str, group: str, consumer: str) -> None:
        self.client, self.stream, self.group, self.consumer = client, stream, group, consumer
        self._pending_done = False
        try:
            # From the stream's first entry: a group made after the collector started still
            # sees every batch the stream holds.
            client.xgroup_create(stream, group, id="0", mkstream=True)
        except redis.ResponseError as err:
            if "BUSYGROUP" not in str(err):
                raise

    @classmethod
    def from_settings(cls, config: CollectorConfig, group: str, consumer: str) -> RedisReader:
        return cls(redis.Redis.from_url(config.redis_url), config.stream, group, consumer)

    def read(self, count: int = 100, block_ms: int = 0) -> list[Entry]:
        """This consumer's pending entries first (after a restart), then new ones."""
        if not self._pending_done:
            entries = self._read("0", count, None)
            if entries:
                return entries
            self._pending_done = True
        return self._read(">", count, block_ms or None)

    def _read(self, start: str, count: int, block_ms: int | None) -> list[Entry]:
        answer = self.client.xreadgroup(
            self.group, self.consumer, {self.stream: start}, count=count, block=block_ms
        )
        out, trimmed = [], []
        for _, messages in answer or []:
            for entry_id, fields in messages:
                if fields:
                    out.append(Entry(entry_id.decode(), from_ipc(fields[FIELD])))
                else:  # pending, but trimmed from the stream meanwhile: nothing left to read
                    trimmed.append(entry_id)
        self.ack(trimmed)
        return out

    def ack(self, ids: Sequence[str]) -> None:
        if ids:
            self.client.xack(self.stream, self.group, *ids)
