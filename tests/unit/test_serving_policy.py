"""Exploration propensities and canary routing, without HTTP."""

from __future__ import annotations

import numpy as np

from serving.canary import bucket, in_canary
from serving.exploration import choose, top_k


def test_top_k_is_best_first_with_stable_ties() -> None:
    scores = np.array([0.1, 0.9, 0.5, 0.9, 0.2])
    assert top_k(scores, 3).tolist() == [1, 3, 2]
    assert top_k(scores, 10).tolist() == [1, 3, 2, 4, 0]


def test_greedy_slate_has_exact_propensities() -> None:
    scores = np.array([0.1, 0.9, 0.5, 0.3])
    choice = choose(scores, 2, epsilon=0.2, rng=np.random.default_rng(1))
    assert not choice.explored  # seed 1 draws above epsilon
    assert choice.order.tolist() == [1, 2]
    assert np.allclose(choice.propensity, 0.8 + 0.2 * 2 / 4)


def test_explored_items_outside_the_top_get_epsilon_k_over_n() -> None:
    scores = np.arange(10, dtype=float)
    choice = choose(scores, 3, epsilon=1.0, rng=np.random.default_rng(0))
    assert choice.explored and len(set(choice.order.tolist())) == 3
    assert np.allclose(choice.propensity, 3 / 10)


def test_logged_propensities_match_observed_frequencies() -> None:
    rng = np.random.default_rng(7)
    scores = np.array([5.0, 4.0, 3.0, 2.0, 1.0, 0.0])
    shown = np.zeros(len(scores))
    logged = np.zeros(len(scores))
    trials = 20_000
    for _ in range(trials):
        choice = choose(scores, 2, epsilon=0.3, rng=rng)
        shown[choice.order] += 1
        logged[choice.order] = choice.propensity
    assert np.allclose(shown / trials, logged, atol=0.01)


def test_canary_is_sticky_and_close_to_its_share() -> None:
    users = [f"user-{i}" for i in range(20_000)]
    routed = [in_canary(u, 0.1, "salt") for u in users]
    assert abs(np.mean(routed) - 0.1) < 0.01
    assert routed == [in_canary(u, 0.1, "salt") for u in users]
    assert bucket("user-1", "salt") != bucket("user-1", "other-salt")
    assert not any(in_canary(u, 0.0, "salt") for u in users[:1000])
    assert all(in_canary(u, 1.0, "salt") for u in users[:1000])
