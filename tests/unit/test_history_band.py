"""The quality gate's bounds from a log's own history: ratio floors, widened by its spread."""

from __future__ import annotations

import numpy as np
import pytest

from expectations.checks import history_band


def test_a_steady_history_gets_the_configured_ratios() -> None:
    low, high = history_band([1000, 1010, 990, 1005, 995], (0.3, 3.0), spread=4.0)
    assert low == pytest.approx(300) and high == pytest.approx(3000)


def test_a_bursty_history_earns_a_wider_band_than_the_ratios() -> None:
    rng = np.random.default_rng(0)
    bursty = np.exp(rng.normal(np.log(1000), 1.0, 60)).tolist()  # days vary ~2.7x
    low, high = history_band(bursty, (0.3, 3.0), spread=4.0)
    median = float(np.median(bursty))
    assert low < 0.05 * median and high > 20 * median
    inside = [v for v in bursty if low <= v <= high]
    assert len(inside) == len(bursty)  # its own ordinary days pass


def test_two_days_are_too_few_to_learn_a_spread() -> None:
    low, high = history_band([100, 10_000], (0.5, 2.0), spread=4.0)
    assert (low, high) == pytest.approx((0.5 * 5050, 2.0 * 5050))  # the plain median


def test_a_log_that_clicks_every_impression_keeps_ctr_one_inside() -> None:
    low, high = history_band([1.0] * 7, (0.5, 2.0), spread=4.0)
    assert low <= 1.0 <= high
