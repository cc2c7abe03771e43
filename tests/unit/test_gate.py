from __future__ import annotations

import numpy as np

from engageflow.settings import TrainingConfig
from tests.unit.synthetic import impressions
from training.evaluate import Scores
from training.gate import decide

FRAME = impressions(600, 10, seed=11)
CONFIG = TrainingConfig(bootstrap_samples=200, engagement_k=3)
TRUE = Scores("challenger", FRAME["p_good"].to_numpy(), True)
NOISE = Scores("reference", np.random.default_rng(0).random(len(FRAME)), True)


def test_first_model_must_beat_the_baseline() -> None:
    assert decide(FRAME, TRUE, NOISE, CONFIG, seed=1, first=True).promote
    refused = decide(FRAME, NOISE, TRUE, CONFIG, seed=1, first=True)
    assert not refused.promote
    assert refused.primary["upper"] < 0
    assert "must beat on the estimate, may not trail by more than 0.02: failed" in refused.summary()
    # A tie with the baseline does not beat it.
    same = Scores("reference", TRUE.values, True)
    assert not decide(FRAME, TRUE, same, CONFIG, seed=1, first=True).promote


def test_a_challenger_as_good_as_the_champion_passes() -> None:
    same = Scores("reference", TRUE.values.copy(), True)
    verdict = decide(FRAME, TRUE, same, CONFIG, seed=1, first=False)
    assert verdict.promote
    assert verdict.primary["difference"] == 0.0
    assert verdict.primary["floor"] == -CONFIG.gate_tolerance


def test_a_calibration_regression_is_refused_even_with_the_same_ranking() -> None:
    inflated = Scores("challenger", np.sqrt(TRUE.values), True)  # same order, too high
    reference = Scores("reference", TRUE.values, True)
    verdict = decide(FRAME, inflated, reference, CONFIG, seed=1, first=False)
    assert verdict.primary["difference"] == 0.0
    assert not verdict.promote
    assert verdict.guards["ece"]["challenger"] > verdict.guards["ece"]["reference"] + 0.01
    assert "ece" in verdict.summary() and "regressed" in verdict.summary()
