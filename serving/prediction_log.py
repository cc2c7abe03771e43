"""The prediction log: every served slate, batched off the request path into the lake.

`append` only puts the slate on a queue; a writer thread turns batches into Parquet files
`lake/predictions/date=D/<writer>-<seq>.parquet`, each written atomically, every
`flush_seconds` or `batch_rows` rows, whichever comes first. `close` flushes what is left, so a
clean shutdown loses nothing; a crash loses at most the last unflushed interval.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa

from engageflow import lake, schema

log = logging.getLogger(__name__)
_TICK = object()  # "the flush interval passed" on the writer's loop


@dataclass(frozen=True)
class ServedSlate:
    request_id: str
    ts: datetime  # UTC
    user_id: str
    items: list[str]
    scores: np.ndarray
    propensity: np.ndarray
    policy: str
    model_version: str | None
    feature_hash: str | None
    latency_ms: float


def to_table(slates: list[ServedSlate]) -> pa.Table:
    """Long format: one row per shown item, in slate order."""
    sizes = [len(s.items) for s in slates]

    def per_item(values: list) -> list:
        return [v for v, n in zip(values, sizes, strict=True) for _ in range(n)]

    table = pa.table(
        {
            "request_id": per_item([s.request_id for s in slates]),
            "ts": pa.array(per_item([s.ts for s in slates]), type=schema.UTC_TS),
            "user_id": per_item([s.user_id for s in slates]),
            "item_id": [item for s in slates for item in s.items],
            "position": np.concatenate([np.arange(n) for n in sizes]).astype(np.int16),
            "score": np.concatenate([s.scores for s in slates]).astype(np.float32),
            "policy": per_item([s.policy for s in slates]),
            "model_version": per_item([s.model_version for s in slates]),
            "propensity": np.concatenate([s.propensity for s in slates]).astype(np.float32),
            "feature_hash": per_item([s.feature_hash for s in slates]),
            "latency_ms": np.array(per_item([s.latency_ms for s in slates]), dtype=np.float32),
        }
    )
    return schema.conform(table, schema.PREDICTIONS, "prediction log")


class PredictionLog:
    """A background writer; safe to `append` from many threads."""

    def __init__(self, root: Path, writer: str, batch_rows: int, flush_seconds: float) -> None:
        self._root, self._writer = root, writer
        self._batch_rows, self._flush_seconds = batch_rows, flush_seconds
        self._queue: queue.SimpleQueue[ServedSlate | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
        self._seq = 0
        self.written_rows = 0
        self._thread.start()

    def append(self, slate: ServedSlate) -> None:
        self._queue.put(slate)

    def close(self, timeout: float = 30.0) -> None:
        """Flush everything appended so far and stop the writer."""
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        pending: list[ServedSlate] = []
        rows, deadline = 0, time.monotonic() + self._flush_seconds
        while True:
            try:
                slate = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                slate = _TICK
            if slate is None:
                self._flush(pending)
                return
            if isinstance(slate, ServedSlate):
                pending.append(slate)
                rows += len(slate.items)
            if rows >= self._batch_rows or time.monotonic() >= deadline:
                deadline = time.monotonic() + self._flush_seconds
                try:
                    self._flush(pending)
                except OSError:
                    # Keep the batch and try again next interval rather than lose it.
                    log.exception("prediction log: write failed; %d rows kept for retry", rows)
                    continue
                pending, rows = [], 0

    def _flush(self, slates: list[ServedSlate]) -> None:
        """Write one file per day; a day that was written leaves `slates`, so a retry skips it."""
        for day in sorted({slate.ts.date() for slate in slates}):
            group = [slate for slate in slates if slate.ts.date() == day]
            table = to_table(group)
            folder = lake.partition_dir(self._root, "lake", "predictions", day)
            lake.write_atomic(table, folder / f"{self._writer}-{self._seq:08d}.parquet")
            self._seq += 1
            self.written_rows += table.num_rows
            slates[:] = [slate for slate in slates if slate.ts.date() != day]


def read_logged(root: Path, columns: list[str] | None = None):
    """Every logged row of every day (a pandas DataFrame; empty with `columns` when none)."""
    import pandas as pd

    files = [
        f
        for day in lake.partition_days(root, "lake", "predictions")
        for f in lake.partition_files(root, "lake", "predictions", day)
    ]
    if not files:
        return pd.DataFrame(columns=columns or ["request_id"])
    return pd.concat([pd.read_parquet(f, columns=columns) for f in files], ignore_index=True)
