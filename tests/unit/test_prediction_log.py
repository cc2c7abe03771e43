"""The prediction log writes every served slate, off the caller's thread, and flushes on close."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd

from engageflow import lake, schema
from engageflow.settings import Settings
from serving.prediction_log import PredictionLog, ServedSlate

DAY = date(2026, 1, 5)


def _slate(n: int, items: int = 3) -> ServedSlate:
    return ServedSlate(
        request_id=f"r{n}",
        ts=datetime(2026, 1, 5, 12, tzinfo=UTC),
        user_id=f"u{n % 7}",
        items=[f"i{n}-{j}" for j in range(items)],
        scores=np.linspace(0.9, 0.1, items),
        propensity=np.full(items, 0.5),
        policy="champion",
        model_version="3",
        feature_hash="abc",
        latency_ms=4.2,
    )


def _logged(settings: Settings) -> pd.DataFrame:
    table = lake.read_partition(settings.root, "lake", "predictions", DAY, schema.PREDICTIONS)
    return table.to_pandas()


def test_served_equals_logged_from_many_threads(settings: Settings) -> None:
    log = PredictionLog(settings.root, "w0", batch_rows=500, flush_seconds=0.05)
    threads = [
        threading.Thread(target=lambda t=t: [log.append(_slate(t * 1000 + n)) for n in range(400)])
        for t in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    log.close()
    logged = _logged(settings)
    assert len(logged) == 4 * 400 * 3 == log.written_rows
    assert logged["request_id"].nunique() == 1600
    assert not logged.duplicated(["request_id", "item_id"]).any()
    files = lake.partition_files(settings.root, "lake", "predictions", DAY)
    assert len(files) > 1  # batched, not one file per slate nor one at the end only


def test_slate_order_and_fields_survive(settings: Settings) -> None:
    log = PredictionLog(settings.root, "w1", batch_rows=10_000, flush_seconds=60)
    log.append(_slate(1, items=4))
    log.close()  # flushes although neither the size nor the time limit was reached
    logged = _logged(settings)
    assert logged["position"].tolist() == [0, 1, 2, 3]
    assert logged["item_id"].tolist() == ["i1-0", "i1-1", "i1-2", "i1-3"]
    assert np.allclose(logged["score"], np.linspace(0.9, 0.1, 4))
    assert (logged["policy"] == "champion").all() and (logged["model_version"] == "3").all()
