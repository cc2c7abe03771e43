"""Evidently reports on hand-made frames: a shifted column drifts, a copied one does not, and
the values and failed tests come back out of the snapshot."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd

from engageflow.settings import MonitoringConfig
from monitoring.reports import (
    column_types,
    drift_snapshot,
    failed_tests,
    metric_values,
    performance_snapshot,
)

STAMP = {"timestamp": datetime(2026, 1, 2, tzinfo=UTC), "tags": ["drift"], "metadata": {}}


def _frame(rng: np.random.Generator, n: int, shift: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "moved": rng.normal(shift, 1.0, n),
            "still": rng.normal(0.0, 1.0, n),
            "topic": rng.integers(0, 4, n),
            "score": rng.uniform(0, 1, n),
        }
    )


def test_column_types() -> None:
    frame = pd.DataFrame({"a": [1.0], "topic": [3], "flag": [True], "name": ["x"]})
    assert column_types(frame, ["a", "topic", "flag", "name"]) == (["a"], ["topic", "flag", "name"])


def test_shifted_column_drifts_and_the_test_fails() -> None:
    rng = np.random.default_rng(0)
    reference, current = _frame(rng, 3000, 0.0), _frame(rng, 3000, 0.5)
    config = MonitoringConfig(drift_share=0.3)
    snapshot = drift_snapshot(reference, current, ["moved", "still", "topic"], config, STAMP)
    values = metric_values(snapshot)
    assert values["DriftedColumnsCount"] == {"count": 1.0, "share": 1 / 3}
    assert values["ValueDrift:moved"] > config.num_threshold  # ~0.5 std apart
    assert values["ValueDrift:still"] < config.num_threshold
    assert values["ValueDrift:score"] < config.prediction_drift_threshold
    failed = failed_tests(snapshot)
    assert "Value Drift for column moved" in failed
    assert "Value Drift for column still" not in failed
    assert any("Share of Drifted Columns" in name for name in failed)  # 1/3 >= 0.3


def test_performance_values() -> None:
    frame = pd.DataFrame(
        {
            "good": [1, 0, 1, 0],
            "bad": [0, 1, 0, 0],
            "clicked": [1, 1, 1, 0],
            "score": [0.9, 0.2, 0.6, 0.4],
        }
    )
    values = metric_values(performance_snapshot(frame, {**STAMP, "tags": ["performance"]}))
    assert values["MeanValue:good"] == 0.5
    assert values["MeanValue:clicked"] == 0.75
    assert values["RocAuc"] == 1.0  # both positives outscore both negatives
    expected = -np.mean(np.log([0.9, 0.8, 0.6, 0.6]))
    assert np.isclose(values["LogLoss"], expected)
    one_class = metric_values(performance_snapshot(frame.assign(good=0), STAMP))
    assert "RocAuc" not in one_class and one_class["MeanValue:good"] == 0.0
