"""What tasks hand to each other is strict JSON: a metric that could not be measured (SNIPS on
a log without propensities) is null there, not NaN, which XCom refuses."""

from __future__ import annotations

import json
import math

import numpy as np

from engageflow.documents import json_ready
from engageflow.settings import TrainingConfig
from tests.unit.synthetic import impressions
from training.evaluate import Scores, evaluate_scores, tiebreak


def test_non_finite_floats_become_null_at_any_depth() -> None:
    value = {"a": float("nan"), "b": [1.5, float("inf"), (float("-inf"), 2)], "c": {"d": "x"}}
    assert json_ready(value) == {"a": None, "b": [1.5, None, [None, 2]], "c": {"d": "x"}}


def test_metrics_of_a_log_without_propensities_pass_strict_json() -> None:
    frame = impressions(40, 10, seed=3).assign(propensity=float("nan"))
    scores = Scores("model", frame["signal"].to_numpy(), probabilities=False)
    config = TrainingConfig()
    measured = evaluate_scores(frame, scores, config, tiebreak(frame, 7))
    snips = f"snips_good_rate_at_{config.engagement_k}"
    assert math.isnan(measured[snips])  # what the train_ranker DAG's XCom refused
    document = json.loads(json.dumps(json_ready(measured), allow_nan=False))
    assert document[snips] is None and document["logloss"] is None
    assert np.isclose(document["auc"], measured["auc"])
