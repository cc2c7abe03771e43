"""Evidently reports on hand-made frames: a shifted column drifts, a copied one does not, and
the values and failed tests come back out of the snapshot."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd

from engageflow.settings import MonitoringConfig
from monitoring.reports import (
    category_values,
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


def test_integer_codes_are_one_category_whether_a_join_made_them_floats() -> None:
    joined = pd.Series([3.0, None, 1.0])  # a point-in-time join that missed a row
    assert category_values(joined).tolist() == ["3", "<missing>", "1"]
    assert category_values(pd.Series([3, 1])).tolist() == ["3", "1"]
    assert category_values(pd.Series([0.5, 1.0])).tolist() == ["0.5", "1.0"]  # not codes


def test_column_types() -> None:
    frame = pd.DataFrame({"a": [1.0], "topic": [3], "flag": [True], "name": ["x"]})
    assert column_types(frame, ["a", "topic", "flag", "name"]) == (["a"], ["topic", "flag", "name"])


def test_each_column_is_tested_against_its_own_bound() -> None:
    rng = np.random.default_rng(0)
    reference, current = _frame(rng, 3000, 0.0), _frame(rng, 3000, 0.5)
    # "still" gets a bound below its sampling noise, "moved" one above its ~0.5 std shift.
    bounds = {"moved": 0.9, "still": 0.001, "topic": 0.1, "score": 0.1}
    features = ["moved", "still", "topic"]
    snapshot = drift_snapshot(reference, current, features, MonitoringConfig(), bounds, STAMP)
    values = metric_values(snapshot)
    assert 0.3 < values["ValueDrift:moved"] < bounds["moved"]
    assert values["ValueDrift:still"] > bounds["still"]
    assert values["ValueDrift:score"] < bounds["score"]
    assert values["DriftedColumnsCount"] == {"count": 1.0, "share": 1 / 3}
    failed = failed_tests(snapshot)
    assert "Value Drift for column still" in failed
    assert "Value Drift for column moved" not in failed
    assert any("Share of Drifted Columns" in name for name in failed)  # one column is enough


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
