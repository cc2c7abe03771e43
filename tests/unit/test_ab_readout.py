"""The A/B readout: per-user rates, Welch's t and the bootstrap interval, checked by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from engageflow.settings import MonitoringConfig
from monitoring.ab import ab_readout, bootstrap_interval, decide, user_rates, welch


def _impressions(policy: str, goods_per_user: list[tuple[int, int]], prefix: str) -> pd.DataFrame:
    rows = []
    for n, (good, shown) in enumerate(goods_per_user):
        rows += [(f"{prefix}{n}", policy, i < good) for i in range(shown)]
    return pd.DataFrame(rows, columns=["user_id", "policy", "good"])


def test_user_rates_and_welch_by_hand() -> None:
    canary = _impressions("canary", [(1, 5), (2, 5), (3, 5)], "c")  # 0.2, 0.4, 0.6
    champion = _impressions("champion", [(1, 10), (2, 10), (3, 10), (4, 10)], "h")  # .1 .. .4
    both = pd.concat([canary, champion])
    a, b = user_rates(both, "canary"), user_rates(both, "champion")
    np.testing.assert_allclose(sorted(a), [0.2, 0.4, 0.6])
    np.testing.assert_allclose(sorted(b), [0.1, 0.2, 0.3, 0.4])
    # var(a) = 0.04, var(b) = 0.05/3; se^2 = 0.04/3 + 0.05/12 = 0.0175
    t, p = welch(a, b)
    assert math.isclose(t, 0.15 / math.sqrt(0.0175), rel_tol=1e-9)
    df = 0.0175**2 / ((0.04 / 3) ** 2 / 2 + (0.05 / 12) ** 2 / 3)
    assert math.isclose(p, 2 * stats.t.sf(0.15 / math.sqrt(0.0175), df), rel_tol=1e-9)


def test_bootstrap_interval_of_constant_arms_is_the_difference() -> None:
    low, high = bootstrap_interval(np.full(30, 0.5), np.full(40, 0.25), 200, 0.95, seed=1)
    assert (low, high) == (0.25, 0.25)


def test_bootstrap_interval_is_seeded_and_covers_the_difference() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.random(300), rng.random(300) * 0.9
    first = bootstrap_interval(a, b, 500, 0.95, seed=5)
    assert first == bootstrap_interval(a, b, 500, 0.95, seed=5)
    assert first[0] < a.mean() - b.mean() < first[1]


def test_decisions() -> None:
    config = MonitoringConfig(ab_min_users=10, ab_alpha=0.05, ab_min_lift=0.01)
    assert decide(0.1, 0.001, (0.05, 0.15), 5, config)[0] == "keep_testing"  # too few users
    assert decide(-0.1, 0.001, (-0.15, -0.05), 50, config)[0] == "roll_back"
    assert decide(0.1, 0.001, (0.05, 0.15), 50, config)[0] == "promote"
    assert decide(0.02, 0.04, (0.005, 0.035), 50, config)[0] == "keep_testing"  # below min lift
    assert decide(0.05, 0.2, (-0.02, 0.12), 50, config)[0] == "keep_testing"  # not significant


def test_readout_of_a_clearly_better_canary_promotes() -> None:
    config = MonitoringConfig(ab_min_users=20, ab_bootstrap_samples=500)
    canary = _impressions("canary", [(6, 10)] * 20 + [(4, 10)] * 20, "c")  # mean 0.5
    champion = _impressions("champion", [(2, 10)] * 30 + [(1, 10)] * 30, "h")  # mean 0.15
    other = _impressions("explore", [(9, 10)] * 5, "e")  # not part of the comparison
    readout = ab_readout(pd.concat([canary, champion, other]), config, seed=7)
    assert (readout.canary_users, readout.champion_users) == (40, 60)
    assert math.isclose(readout.difference, 0.35)
    assert readout.ci_low > 0 and readout.decision == "promote"
    assert readout.to_dict()["decision"] == "promote"


def test_readout_without_a_canary_keeps_testing() -> None:
    champion = _impressions("champion", [(1, 4)] * 10, "h")
    readout = ab_readout(champion, MonitoringConfig(), seed=1)
    assert readout.decision == "keep_testing" and readout.canary_users == 0
