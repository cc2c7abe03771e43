"""Each serving path of `decide` and `route`, with a real (tiny) XGBoost model and no HTTP."""

from __future__ import annotations

import numpy as np
import pytest
import xgboost as xgb

from engageflow.schema import Policy
from engageflow.settings import ServingConfig
from serving.model_slot import LoadedModel
from serving.ranking import decide, route


def _model(alias: str, version: str) -> LoadedModel:
    rng = np.random.default_rng(0)
    x = rng.random((300, 1))
    booster = xgb.train(
        {"objective": "binary:logistic", "seed": 0},
        xgb.DMatrix(x, (x[:, 0] > 0.5).astype(int), feature_names=["a"]),
        10,
    )
    return LoadedModel(alias, version, booster, ["a"], "ranker_v1")


@pytest.fixture(scope="module")
def models() -> dict[str, LoadedModel]:
    return {"champion": _model("champion", "1"), "challenger": _model("challenger", "2")}


FEATURES = np.array([[0.1], [0.9], [0.6], [0.2]], dtype=np.float32)
POPULARITY = np.array([0.3, 0.1, 0.2, 0.4])


def test_greedy_champion_ranks_by_score(models) -> None:
    config = ServingConfig(epsilon=0.0)
    got = decide(models["champion"], FEATURES, POPULARITY, 2, config, np.random.default_rng(0))
    assert got.policy == Policy.CHAMPION and got.model_version == "1"
    assert got.order.tolist() == [1, 2]
    assert got.scores[0] >= got.scores[1]
    assert np.allclose(got.propensity, 1.0)


def test_exploration_is_logged_as_explore_with_propensities(models) -> None:
    config = ServingConfig(epsilon=1.0)
    got = decide(models["champion"], FEATURES, POPULARITY, 2, config, np.random.default_rng(3))
    assert got.policy == Policy.EXPLORE
    assert np.allclose(got.propensity, 2 / 4)


def test_fallback_ranks_by_popularity_and_says_so(models) -> None:
    config, reason = ServingConfig(), "store down"
    got = decide(models["champion"], None, POPULARITY, 3, config, np.random.default_rng(0), reason)
    assert got.policy == Policy.FALLBACK and got.model_version is None
    assert got.order.tolist() == [3, 0, 2]
    assert np.allclose(got.propensity, 1.0)
    assert reason in got.reason


def test_without_any_model_the_fallback_explores_with_exact_propensities() -> None:
    config = ServingConfig(epsilon=0.25)
    rngs = [np.random.default_rng(seed) for seed in range(400)]
    got = [decide(None, None, POPULARITY, 3, config, rng) for rng in rngs]
    greedy = [d for d in got if d.policy == Policy.FALLBACK]
    explored = [d for d in got if d.policy == Policy.EXPLORE]
    assert all(d.order.tolist() == [3, 0, 2] for d in greedy)
    assert all(d.model_version is None and d.reason == "no model loaded" for d in got)
    # In the top 3 of 4: 0.75 + 0.25 * 3/4; outside it: 0.25 * 3/4.
    for d in got:
        expected = np.where(np.isin(d.order, [3, 0, 2]), 0.75 + 0.1875, 0.1875)
        np.testing.assert_allclose(d.propensity, expected)
    assert 0.15 < len(explored) / len(got) < 0.35
    assert any(sorted(d.order.tolist()) != [0, 2, 3] for d in explored)


def test_canary_share_goes_to_the_challenger(models) -> None:
    config = ServingConfig(canary_share=0.25)
    users = [f"u{i}" for i in range(4000)]
    share = np.mean([route(u, models, config).alias == "challenger" for u in users])
    assert abs(share - 0.25) < 0.03
    assert route("u1", {"champion": models["champion"]}, config).alias == "champion"
    same = {"champion": models["champion"], "challenger": models["champion"]}
    assert all(route(u, same, config).alias == "champion" for u in users[:200])
    assert route("u1", {}, config) is None
    alone = {"challenger": models["challenger"]}  # no champion: the challenger never serves
    assert all(route(u, alone, config) is None for u in users[:200])
