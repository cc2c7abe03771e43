"""The A/B readout: the mSPRT by hand, its validity under daily looks, and the decisions."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from engageflow.settings import MonitoringConfig
from monitoring.ab import ab_readout, decide, user_rates
from monitoring.sequential import SequentialTest, confidence_radius, msprt


def _impressions(
    policy: str, goods_per_user: list[tuple[int, int]], prefix: str, bad: int = 0
) -> pd.DataFrame:
    rows = []
    for n, (good, shown) in enumerate(goods_per_user):
        rows += [(f"{prefix}{n}", policy, i < good, good <= i < good + bad) for i in range(shown)]
    return pd.DataFrame(rows, columns=["user_id", "policy", "good", "bad"])


def test_user_rates_by_hand() -> None:
    canary = _impressions("canary", [(1, 5), (2, 5), (3, 5)], "c", bad=1)
    champion = _impressions("champion", [(1, 10), (2, 10), (3, 10), (4, 10)], "h")
    both = pd.concat([canary, champion])
    np.testing.assert_allclose(sorted(user_rates(both, "canary")), [0.2, 0.4, 0.6])
    np.testing.assert_allclose(sorted(user_rates(both, "champion")), [0.1, 0.2, 0.3, 0.4])
    np.testing.assert_allclose(user_rates(both, "canary", "bad"), [0.2, 0.2, 0.2])


def test_msprt_by_hand() -> None:
    a, b = np.array([0.2, 0.4, 0.6]), np.array([0.1, 0.2, 0.3, 0.4])
    test = msprt(a, b, tau=0.1, alpha=0.05)
    v = 0.04 / 3 + (0.05 / 3) / 4  # var(a)/3 + var(b)/4 = 0.0175
    ratio = math.sqrt(v / (v + 0.01)) * math.exp(0.15**2 * 0.01 / (2 * v * (v + 0.01)))
    assert math.isclose(test.variance, v) and math.isclose(test.difference, 0.15)
    assert math.isclose(test.p_value, min(1.0, 1 / ratio))
    radius = math.sqrt(v * (v + 0.01) / 0.01 * (2 * math.log(20) + math.log((v + 0.01) / v)))
    assert math.isclose(test.ci_high - test.difference, radius)
    assert math.isclose(test.difference - test.ci_low, radius)


def test_the_interval_excludes_zero_exactly_when_p_is_below_alpha() -> None:
    rng = np.random.default_rng(3)
    for shift in np.linspace(0, 0.2, 21):
        test = msprt(rng.normal(shift, 1, 400), rng.normal(0, 1, 500), tau=0.1, alpha=0.05)
        assert (test.ci_low > 0 or test.ci_high < 0) == (test.p_value < 0.05)


def test_the_sequence_is_wider_than_a_fixed_horizon_interval() -> None:
    # The price of looking every day: wider than the 1.96 sigma of one planned look.
    assert confidence_radius(0.0004, 0.01, 0.05) > 1.96 * 0.02


def test_daily_looks_under_no_difference_rarely_reject() -> None:
    """Under the null, at most alpha of tests ever reject over 30 looks (seeded; a fixed-horizon
    test read daily rejects in about a quarter of them)."""
    rng = np.random.default_rng(11)
    rejected = fixed = 0
    for _ in range(300):
        a, b = rng.normal(0, 1, 3000), rng.normal(0, 1, 3000)
        looks = range(100, 3001, 100)
        rejected += any(msprt(a[:n], b[:n], tau=0.1, alpha=0.05).p_value < 0.05 for n in looks)
        fixed += any(stats.ttest_ind(a[:n], b[:n]).pvalue < 0.05 for n in looks)
    assert rejected / 300 <= 0.06
    assert fixed / 300 > 0.2  # what the sequential test is for (0.26 with this seed)


def test_constant_arms_and_bad_arguments() -> None:
    exact = msprt(np.full(5, 0.5), np.full(5, 0.25), tau=0.1, alpha=0.05)
    assert (exact.ci_low, exact.ci_high, exact.p_value) == (0.25, 0.25, 0.0)
    with pytest.raises(ValueError, match="two observations"):
        msprt(np.ones(1), np.ones(3), tau=0.1, alpha=0.05)
    with pytest.raises(ValueError, match="tau"):
        msprt(np.ones(3), np.ones(3), tau=0.0, alpha=0.05)


def _test(low: float, high: float) -> SequentialTest:
    return SequentialTest((low + high) / 2, 1e-4, 0.01 if low > 0 or high < 0 else 0.5, low, high)


def test_decisions() -> None:
    config = MonitoringConfig(ab_min_users=10, ab_min_lift=0.01, ab_max_days=7)
    flat = _test(-0.01, 0.01)
    assert decide(_test(0.05, 0.15), flat, 5, 1, config)[0] == "keep_testing"  # too few users
    assert decide(_test(-0.15, -0.05), flat, 50, 1, config)[0] == "roll_back"
    assert decide(_test(0.05, 0.15), flat, 50, 1, config)[0] == "promote"
    assert decide(_test(0.005, 0.035), flat, 50, 1, config)[0] == "keep_testing"  # < min lift
    assert decide(_test(-0.02, 0.12), flat, 50, 6, config)[0] == "keep_testing"
    assert decide(_test(-0.02, 0.12), flat, 50, 7, config)[0] == "keep_champion"  # horizon
    more_bad = _test(0.01, 0.03)  # the guardrail wins over a better good rate
    decision, reason = decide(_test(0.05, 0.15), more_bad, 50, 1, config)
    assert decision == "roll_back" and "bad engagement" in reason


def test_readout_of_a_clearly_better_canary_promotes() -> None:
    config = MonitoringConfig(ab_min_users=20)
    canary = _impressions("canary", [(6, 10)] * 20 + [(4, 10)] * 20, "c")  # mean 0.5
    champion = _impressions("champion", [(2, 10)] * 30 + [(1, 10)] * 30, "h")  # mean 0.15
    other = _impressions("explore", [(9, 10)] * 5, "e")  # not part of the comparison
    readout = ab_readout(pd.concat([canary, champion, other]), config, days=3)
    assert (readout.canary_users, readout.champion_users, readout.days) == (40, 60, 3)
    assert math.isclose(readout.difference, 0.35)
    assert readout.ci_low > 0 and readout.decision == "promote"
    assert readout.to_dict()["decision"] == "promote"


def test_readout_of_a_canary_raising_bad_engagement_rolls_back() -> None:
    config = MonitoringConfig(ab_min_users=20)
    canary = _impressions("canary", [(2, 10)] * 40, "c", bad=4)
    champion = _impressions("champion", [(2, 10)] * 40, "h", bad=1)
    readout = ab_readout(pd.concat([canary, champion]), config)
    assert math.isclose(readout.bad_difference, 0.3) and readout.decision == "roll_back"


def test_readout_without_a_canary_keeps_testing() -> None:
    champion = _impressions("champion", [(1, 4)] * 10, "h")
    readout = ab_readout(champion, MonitoringConfig())
    assert readout.decision == "keep_testing" and readout.canary_users == 0
