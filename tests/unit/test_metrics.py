"""Each metric against values computed by hand on tiny inputs, and against scikit-learn."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import log_loss, ndcg_score, roc_auc_score

from training import metrics

L3 = math.log2(3)  # the NDCG discount of the second rank


def test_logloss_and_normalized_entropy_by_hand() -> None:
    y, p = np.array([1, 0]), np.array([0.8, 0.4])
    expected = -(math.log(0.8) + math.log(0.6)) / 2
    assert metrics.logloss(y, p) == pytest.approx(expected)
    assert metrics.normalized_entropy(y, p) == pytest.approx(expected / math.log(2))
    assert math.isnan(metrics.normalized_entropy(np.array([1, 1]), p))


def test_auc_counts_ties_as_half_a_win() -> None:
    y, s = np.array([1, 0, 1, 0]), np.array([0.9, 0.8, 0.3, 0.3])
    # Pairs (pos, neg): 0.9>0.8 win, 0.9>0.3 win, 0.3<0.8 loss, 0.3=0.3 tie -> 2.5 / 4.
    assert metrics.auc(y, s) == pytest.approx(0.625)
    assert math.isnan(metrics.auc(np.array([1, 1]), np.array([0.1, 0.2])))


def test_gauc_weights_users_by_impressions_and_skips_one_class_users() -> None:
    y = np.array([1, 0, 1, 0, 0, 0, 0])
    s = np.array([0.9, 0.1, 0.2, 0.5, 0.1, 0.3, 0.4])
    users = np.array(["a", "a", "b", "b", "b", "c", "c"])
    # a: AUC 1 over 2 impressions; b: 0.2 loses to 0.5, beats 0.1 -> 0.5 over 3; c: no positive.
    assert metrics.gauc(y, s, users) == pytest.approx((2 * 1.0 + 3 * 0.5) / 5)


def test_ranking_metrics_by_hand() -> None:
    y = np.array([0, 1, 1, 1, 0, 0, 0])
    s = np.array([0.9, 0.8, 0.1, 0.3, 0.7, 0.5, 0.6])
    requests = np.array(["r1", "r1", "r1", "r2", "r2", "r3", "r3"])
    per = metrics.per_request(y, s, requests, k=2)
    assert len(per) == 2  # r3 has no good item: no ranking information
    # r1 ranks (0, 1, 1): DCG@2 = 1/log2(3), ideal 1 + 1/log2(3); AP@2 = (1/2)/2; RR = 1/2.
    # r2 ranks (0, 1): DCG@2 = 1/log2(3), ideal 1; AP@2 = (1/2)/1; RR = 1/2.
    assert per["ndcg"].tolist() == pytest.approx([(1 / L3) / (1 + 1 / L3), 1 / L3])
    assert per["ap"].tolist() == pytest.approx([0.25, 0.5])
    assert per["rr"].tolist() == pytest.approx([0.5, 0.5])


def test_ties_fall_by_the_tiebreak_key() -> None:
    y, s, requests = np.array([1, 0]), np.array([0.5, 0.5]), np.array(["r", "r"])
    assert metrics.per_request(y, s, requests, 2, np.array([0, 1]))["rr"].iloc[0] == 1.0
    assert metrics.per_request(y, s, requests, 2, np.array([1, 0]))["rr"].iloc[0] == 0.5


def test_expected_calibration_error_by_hand() -> None:
    y, p = np.array([0, 1, 1, 1]), np.array([0.1, 0.2, 0.7, 1.0])
    table = metrics.calibration_table(y, p, bins=2)
    assert table["weight"].tolist() == [2, 2]  # p = 1.0 falls in the last bin
    assert table["predicted"].tolist() == pytest.approx([0.15, 0.85])
    # |0.5 - 0.15| and |1 - 0.85|, each half of the rows.
    assert metrics.ece(y, p, bins=2) == pytest.approx((0.35 + 0.15) / 2)


def test_top_k_rates_rerank_each_request() -> None:
    good, bad = np.array([0, 1, 1, 1, 0]), np.array([1, 0, 0, 0, 1])
    s = np.array([0.9, 0.8, 0.1, 0.3, 0.7])
    requests = np.array(["r1", "r1", "r1", "r2", "r2"])
    assert metrics.top_k_rates(good, bad, s, requests, 1) == (0.0, 1.0)
    assert metrics.top_k_rates(good, bad, s, requests, 2) == (0.5, 0.5)


def test_snips_weights_kept_impressions_by_inverse_propensity() -> None:
    good = np.array([1, 0, 0, 0, 1, 1])
    s = np.array([0.9, 0.1, 0.2, 0.8, 0.5, 0.7])
    requests = np.array(["r1", "r1", "r2", "r2", "r3", "r3"])
    propensity = np.array([0.25, 0.5, 0.5, 0.5, np.nan, np.nan])
    # Top 1: r1 keeps a good item (weight 4), r2 a non-good one (weight 2), r3 is unknown.
    assert metrics.snips_top_k(good, s, requests, propensity, 1) == pytest.approx(4 / 6)
    assert math.isnan(metrics.snips_top_k(good, s, requests, np.full(6, np.nan), 1))


def test_agrees_with_scikit_learn_on_random_data() -> None:
    rng = np.random.default_rng(3)
    y = rng.random(2_000) < 0.2
    s = np.round(rng.random(2_000), 2)  # rounded: plenty of ties
    w = rng.integers(1, 4, 2_000).astype(float)
    assert metrics.auc(y, s) == pytest.approx(roc_auc_score(y, s))
    assert metrics.auc(y, s, w) == pytest.approx(roc_auc_score(y, s, sample_weight=w))
    p = rng.random(2_000)
    assert metrics.logloss(y, p) == pytest.approx(log_loss(y, p))
    assert metrics.logloss(y, p, w) == pytest.approx(log_loss(y, p, sample_weight=w))
    grid_y, grid_s = y.reshape(200, 10), rng.random((200, 10))
    keep = grid_y.sum(axis=1) > 0
    per = metrics.per_request(y, grid_s.ravel(), np.repeat(np.arange(200), 10), k=5)
    assert per["ndcg"].mean() == pytest.approx(ndcg_score(grid_y[keep], grid_s[keep], k=5))
