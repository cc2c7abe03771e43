"""Drift bounds calibrated on reference days: the t bound by hand, the floor, and on simulated
days that the budget of false alarms holds while a real shift is caught."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from engageflow.settings import MonitoringConfig
from monitoring.calibration import (
    MIN_REFERENCE_DAYS,
    bounds_from_draws,
    calibrate,
    column_alpha,
    distances,
    segment_bound,
    segment_declines,
)

CONFIG = MonitoringConfig()  # one false alarm per 30 days
COLUMNS = [f"x{i}" for i in range(6)] + ["topic"]


def _floor(column: str) -> float:
    return 0.01


def _measure(reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, float]:
    return distances(reference, current, COLUMNS, {"topic"}, CONFIG)


def _day(rng: np.random.Generator, shift: float = 0.0, rows: int = 2000) -> pd.DataFrame:
    """A day: every numeric column moves by its own small day effect (0.05 std) plus `shift`."""
    frame = {c: rng.normal(rng.normal(0, 0.05) + shift, 1.0, rows) for c in COLUMNS[:-1]}
    return pd.DataFrame({**frame, "topic": rng.choice(4, rows, p=[0.4, 0.3, 0.2, 0.1])})


def test_a_bound_by_hand() -> None:
    draws = pd.DataFrame({"a": [0.1, 0.2, 0.2], "b": [0.0, 0.0, 0.0]})
    alpha = (1 / 30) / 2  # two columns share the budget
    assert column_alpha(2, CONFIG) == pytest.approx(alpha)
    bounds = bounds_from_draws(draws, {"a": 0.01, "b": 0.05}.__getitem__, alpha)
    rms = math.sqrt((0.01 + 0.04 + 0.04) / 3)
    expected = rms * math.sqrt(1 + 1 / 3) * stats.t.ppf(1 - alpha / 2, 3)
    assert bounds.columns["a"] == pytest.approx(expected)
    assert bounds.columns["b"] == 0.05  # a column that never moved keeps its floor
    assert bounds.days == 3


def test_fewer_than_three_days_cannot_be_calibrated() -> None:
    rng = np.random.default_rng(1)
    days = [_day(rng) for _ in range(MIN_REFERENCE_DAYS - 1)]
    with pytest.raises(ValueError, match="3 reference days"):
        calibrate(days, _measure, _floor, CONFIG)


def test_undrifted_days_stay_within_the_budget_and_a_shift_is_caught() -> None:
    rng = np.random.default_rng(7)
    reference = [_day(rng) for _ in range(7)]
    bounds = calibrate(reference, _measure, _floor, CONFIG)
    pooled = pd.concat(reference, ignore_index=True)

    def alarms(day: pd.DataFrame) -> list[str]:
        measured = _measure(pooled, day)
        return [c for c, d in measured.items() if d >= bounds.columns[c]]

    quiet = [alarms(_day(rng)) for _ in range(120)]
    assert sum(bool(a) for a in quiet) <= 8  # budget 4 in 120 days; the draw is noisy
    shifted = _day(rng)
    shifted["x0"] += 0.5  # half a standard deviation, one column
    assert alarms(shifted) == ["x0"]
    mixed = _day(rng).assign(topic=rng.choice(4, 2000, p=[0.1, 0.2, 0.3, 0.4]))
    assert alarms(mixed) == ["topic"]


def test_a_column_with_too_few_draws_gets_no_bound() -> None:
    draws = pd.DataFrame({"a": [0.1, 0.2, 0.2], "b": [0.3, float("nan"), float("nan")]})
    assert set(bounds_from_draws(draws, _floor, 0.01).columns) == {"a"}


def test_a_segments_good_rate_drop_is_measured_where_both_sides_have_rows() -> None:
    reference = pd.DataFrame({"topic": [0] * 400 + [1] * 400 + [2] * 50, "good": 0})
    reference.loc[:99, "good"] = 1  # topic 0: 25%
    reference.loc[400:499, "good"] = 1  # topic 1: 25%
    current = pd.DataFrame({"topic": [0.0] * 400 + [1.0] * 400 + [2.0] * 400, "good": 0})
    current.loc[:49, "good"] = 1  # topic 0: 12.5%, half the reference
    current.loc[400:499, "good"] = 1  # topic 1 unchanged
    declines = segment_declines(reference, current, ["topic"])
    assert list(declines.index) == ["good_rate[topic=0]", "good_rate[topic=1]"]  # 2: 50 rows
    assert declines.loc["good_rate[topic=0]", "drop"] == pytest.approx(0.5)
    assert declines.loc["good_rate[topic=1]", "drop"] == pytest.approx(0.0)
    se = math.sqrt(0.25 * 0.75 * (1 / 400 + 1 / 400)) / 0.25
    assert declines.loc["good_rate[topic=0]", "se"] == pytest.approx(se)
    # Every impression engaged (a ratings log): no spread to judge a fall by, no segment.
    engaged = reference.assign(good=1)
    assert segment_declines(engaged, current, ["topic"]).empty
    assert segment_bound([engaged] * 3, ["topic"], 0.01) == math.inf


def _segment_day(rng: np.random.Generator, rates: list[float], rows: int = 3000) -> pd.DataFrame:
    topic = rng.integers(0, len(rates), rows)
    return pd.DataFrame({"topic": topic, "good": rng.random(rows) < np.array(rates)[topic]})


def test_segment_bounds_hold_on_binomial_days_and_catch_a_falling_topic() -> None:
    rng = np.random.default_rng(3)
    rates = [0.05] * 6
    reference = [_segment_day(rng, rates) for _ in range(7)]
    alpha = column_alpha(6, CONFIG)
    z = segment_bound(reference, ["topic"], alpha)
    # Near the normal quantile: the days are binomial and nothing more.
    assert stats.norm.ppf(1 - alpha) <= z < 1.3 * stats.norm.ppf(1 - alpha)
    pooled = pd.concat(reference, ignore_index=True)

    def fallen(day: pd.DataFrame) -> list[str]:
        declines = segment_declines(pooled, day, ["topic"])
        return list(declines.index[declines["drop"] >= z * declines["se"]])

    assert sum(bool(fallen(_segment_day(rng, rates))) for _ in range(60)) <= 4
    assert fallen(_segment_day(rng, [0.015, *rates[1:]], rows=6000)) == ["good_rate[topic=0]"]
