from __future__ import annotations

import numpy as np

from engageflow.settings import TrainingConfig
from tests.unit.synthetic import impressions
from training.evaluate import Scores
from training.gate import decide

FRAME = impressions(600, 10, seed=11)
CONFIG = TrainingConfig(bootstrap_samples=200, engagement_k=3)
NDCG = CONFIG.model_copy(update={"gate_metric": "ndcg"})  # the rule's tests, set in NDCG units
TRUE = Scores("challenger", FRAME["p_good"].to_numpy(), True)
NOISE = Scores("reference", np.random.default_rng(0).random(len(FRAME)), True)


def test_first_model_must_beat_the_baseline() -> None:
    assert decide(FRAME, TRUE, NOISE, CONFIG, seed=1, first=True).passed
    refused = decide(FRAME, NOISE, TRUE, CONFIG, seed=1, first=True)
    assert not refused.passed
    assert refused.primary["upper"] < 0
    rule = "must beat on the estimate, may not trail by more than 0.02 nor be significantly worse"
    assert f"{rule}: failed" in refused.summary()
    # A tie with the baseline does not beat it.
    same = Scores("reference", TRUE.values, True)
    assert not decide(FRAME, TRUE, same, CONFIG, seed=1, first=True).passed


def test_a_challenger_as_good_as_the_champion_passes() -> None:
    same = Scores("reference", TRUE.values.copy(), True)
    verdict = decide(FRAME, TRUE, same, CONFIG, seed=1, first=False)
    assert verdict.passed
    assert verdict.primary["difference"] == 0.0
    assert verdict.primary["floor"] == -CONFIG.gate_tolerance


def jittered(frame, scale: float, seed: int) -> Scores:
    """The true law plus noise: nearly as good a ranker, never a better one."""
    noise = np.random.default_rng(seed).normal(0, scale, len(frame))
    return Scores("challenger", frame["p_good"].to_numpy() + noise, False)


def test_an_equal_retrain_on_too_few_requests_is_not_refused_for_the_noise() -> None:
    small = impressions(60, 10, seed=11)
    reference = Scores("reference", small["p_good"].to_numpy(), True)
    config = NDCG.model_copy(update={"min_rankable_groups": 10})
    verdict = decide(small, jittered(small, 0.06, 1), reference, config, seed=1, first=False)
    # Within the tolerance, not significantly worse; the interval is wider than the tolerance,
    # so non-inferiority could not be shown either way.
    assert -CONFIG.gate_tolerance < verdict.primary["difference"] < 0
    assert verdict.primary["lower"] < -CONFIG.gate_tolerance < 0 < verdict.primary["upper"]
    assert verdict.passed


def test_a_regression_the_data_shows_is_refused_even_within_the_tolerance() -> None:
    large = impressions(3000, 10, seed=11)
    reference = Scores("reference", large["p_good"].to_numpy(), True)
    verdict = decide(large, jittered(large, 0.05, 0), reference, NDCG, seed=1, first=False)
    assert -CONFIG.gate_tolerance < verdict.primary["difference"] < verdict.primary["upper"] < 0
    assert not verdict.passed
    assert "significantly worse: failed" in verdict.summary()


def test_a_calibration_regression_is_refused_even_with_the_same_ranking() -> None:
    inflated = Scores("challenger", np.sqrt(TRUE.values), True)  # same order, too high
    reference = Scores("reference", TRUE.values, True)
    verdict = decide(FRAME, inflated, reference, CONFIG, seed=1, first=False)
    assert verdict.primary["difference"] == 0.0
    assert not verdict.passed
    assert verdict.guards["ece"]["challenger"] > verdict.guards["ece"]["reference"] + 0.01
    assert "ece" in verdict.summary() and "regressed" in verdict.summary()


def test_too_few_rankable_groups_are_refused_saying_so() -> None:
    small = impressions(60, 10, seed=11)
    reference = Scores("reference", small["p_good"].to_numpy(), True)
    verdict = decide(small, perfect(small), reference, NDCG, seed=1, first=True)
    assert not verdict.passed
    assert "cannot judge" in verdict.summary() and "min_rankable_groups 100" in verdict.summary()


def test_one_item_requests_cannot_pass_a_ranking_gate() -> None:
    """A log without request ids lands one request per user, item and day: NDCG 1 for all."""
    single = impressions(3000, 1, seed=11)
    reference = Scores("reference", np.zeros(len(single)), True)
    verdict = decide(single, perfect(single), reference, NDCG, seed=1, first=True)
    assert not verdict.passed and "holds 0 ranking groups" in verdict.summary()


def perfect(frame) -> Scores:
    return Scores("challenger", frame["p_good"].to_numpy(), True)


def logged_by(frame, champion: np.ndarray, seed: int):
    """`frame` as the champion served it: slates in its order, and engagement that falls with
    position like the simulator's ((1 + position) ** -0.8 of the item's chance)."""
    order = frame.assign(score=champion).sort_values(["request_id", "score"], ascending=[1, 0])
    served = order.assign(position=order.groupby("request_id").cumcount())
    examined = (1.0 + served["position"].to_numpy()) ** -0.8
    rng = np.random.default_rng(seed)
    return served.assign(good=rng.random(len(served)) < examined * served["p_good"].to_numpy())


def test_the_logged_order_does_not_win_the_gate_for_the_champion() -> None:
    """On slates the champion ordered, NDCG credits it for the position effect; AUC within a
    position compares items that had the same chance to be seen."""
    rng = np.random.default_rng(5)
    frame = impressions(3000, 10, seed=11)
    weak = frame["p_good"].to_numpy() + rng.normal(0, 0.15, len(frame))
    logged = logged_by(frame, weak, seed=2)
    champion = Scores("champion", logged["score"].to_numpy(), False)
    better = Scores("challenger", logged["p_good"].to_numpy(), True)
    biased = decide(logged, better, champion, NDCG, seed=1, first=False)
    assert biased.primary["difference"] < 0  # the better model looks worse by NDCG
    fair = decide(logged, better, champion, CONFIG, seed=1, first=False)
    assert fair.primary["metric"] == "position_auc" and fair.primary["lower"] > 0
