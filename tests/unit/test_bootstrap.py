"""The paired bootstrap of the gate (scipy.stats.bootstrap by request) on a case whose true
difference is known: two items per request, one good; the challenger always ranks it first, the
reference with chance Q, so the true NDCG difference is (1 - Q) * (1 - 1 / log2(3))."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from engageflow.settings import TrainingConfig
from training.columns import GROUP, LABEL
from training.evaluate import Scores, bootstrap_difference

Q = 0.6
TRUE_DIFFERENCE = (1 - Q) * (1 - 1 / math.log2(3))


def two_item_requests(requests: int, seed: int) -> tuple[pd.DataFrame, Scores, Scores]:
    rng = np.random.default_rng(seed)
    good = np.tile([1, 0], requests)
    ids = np.repeat(np.arange(requests), 2)
    frame = pd.DataFrame({"request_id": ids, GROUP: ids, "user_id": 0, LABEL: good})
    first = np.repeat(rng.random(requests) < Q, 2)  # the reference ranks the good item first
    reference = np.where(good == 1, first.astype(float), 0.5)
    challenger = Scores("challenger", good.astype(float), probabilities=False)
    return frame, challenger, Scores("reference", reference, probabilities=False)


def test_paired_interval_covers_the_true_difference_and_is_seeded() -> None:
    frame, challenger, reference = two_item_requests(800, seed=3)
    config = TrainingConfig(bootstrap_samples=400, bootstrap_confidence=0.95)
    diff = bootstrap_difference(frame, challenger, reference, "ndcg", config, seed=11)
    assert diff.lower < TRUE_DIFFERENCE < diff.upper
    assert diff.lower < diff.difference < diff.upper
    assert diff.upper - diff.lower < 0.1  # informative, not the whole range
    assert bootstrap_difference(frame, challenger, reference, "ndcg", config, seed=11) == diff
    other = bootstrap_difference(frame, challenger, reference, "ndcg", config, seed=12)
    assert (other.lower, other.upper) != (diff.lower, diff.upper)
    assert other.difference == diff.difference  # the point estimate does not depend on the seed


def test_row_metrics_resample_whole_requests() -> None:
    frame, challenger, reference = two_item_requests(300, seed=4)
    config = TrainingConfig(bootstrap_samples=30)
    diff = bootstrap_difference(frame, challenger, reference, "auc", config, seed=1)
    assert diff.challenger == 1.0
    assert diff.lower <= diff.difference <= diff.upper
    assert bootstrap_difference(frame, challenger, reference, "auc", config, seed=1) == diff
