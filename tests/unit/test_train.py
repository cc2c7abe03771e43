from __future__ import annotations

import numpy as np
import pytest

from engageflow.errors import DataError
from engageflow.scoring import predict
from engageflow.settings import TrainingConfig
from tests.unit.synthetic import FEATURES, impressions
from training import metrics
from training.columns import GROUP
from training.distributed import group_bounds
from training.train import matrix, train_model

TRAIN, VALID, TEST = (impressions(400, 10, seed) for seed in (1, 2, 3))


def test_training_is_seeded_and_learns_the_signal() -> None:
    config = TrainingConfig(num_boost_round=60, early_stopping_rounds=10, threads=1)
    first = train_model(TRAIN, VALID, FEATURES, config, seed=5)
    again = train_model(TRAIN, VALID, FEATURES, config, seed=5)
    scores = predict(first.booster, TEST)
    np.testing.assert_array_equal(scores, predict(again.booster, TEST))
    assert metrics.auc(TEST["good"], scores) > 0.75
    assert first.booster.num_boosted_rounds() == first.best_iteration + 1
    assert first.imbalance.startswith("none")
    assert first.positive_rate == pytest.approx(TRAIN["good"].mean())
    gain = first.booster.get_score(importance_type="total_gain")
    assert gain["signal"] > 10 * gain.get("noise", 0.0)


def test_scale_pos_weight_is_applied_and_reported() -> None:
    config = TrainingConfig(num_boost_round=20, imbalance="scale_pos_weight", threads=1)
    trained = train_model(TRAIN, VALID, FEATURES, config, seed=5)
    rate = TRAIN["good"].mean()
    assert trained.params["scale_pos_weight"] == pytest.approx((1 - rate) / rate)
    assert trained.imbalance.startswith("scale_pos_weight=")
    # Up-weighted positives push predictions far above the true rate.
    assert predict(trained.booster, TEST).mean() > 2 * TEST["good"].mean()


@pytest.mark.parametrize("objective", ["rank:pairwise", "rank:ndcg"])
def test_ranking_objectives_group_by_request(objective: str) -> None:
    shuffled = TRAIN.sample(frac=1.0, random_state=0)  # requests interleaved
    dmatrix = matrix(shuffled, FEATURES, objective)
    groups = dmatrix.get_uint_info("group_ptr")
    assert len(groups) == shuffled["request_id"].nunique() + 1
    assert np.all(np.diff(groups) == 10)
    config = TrainingConfig(objective=objective, num_boost_round=40, threads=1)
    trained = train_model(shuffled, VALID, FEATURES, config, seed=5)
    per = metrics.per_request(TEST["good"], predict(trained.booster, TEST), TEST["request_id"], 10)
    assert per["ndcg"].mean() > 0.6
    assert trained.imbalance.startswith("none (ranking")


def test_search_tries_several_settings_only_with_a_budget() -> None:
    plain = train_model(TRAIN, VALID, FEATURES, TrainingConfig(num_boost_round=20), seed=5)
    assert len(plain.trials) == 1
    config = TrainingConfig(num_boost_round=20, search_budget_seconds=60, search_max_trials=4)
    searched = train_model(TRAIN, VALID, FEATURES, config, seed=5)
    assert len(searched.trials) == 4
    assert searched.validation_score == min(t["score"] for t in searched.trials)


def test_unusable_frames_are_refused_with_the_reason() -> None:
    with pytest.raises(DataError, match="missing columns \\['signal'\\]"):
        train_model(TRAIN.drop(columns="signal"), VALID, FEATURES, TrainingConfig(), seed=5)
    with pytest.raises(DataError, match="needs both classes"):
        train_model(TRAIN.assign(good=False), VALID, FEATURES, TrainingConfig(), seed=5)


def test_dask_chunks_cut_only_between_requests() -> None:
    qid = np.repeat(np.arange(7), [3, 1, 4, 2, 5, 1, 2])
    for parts in (1, 2, 3, 5, 30):
        bounds = group_bounds(qid, parts)
        assert bounds[0] == 0 and bounds[-1] == len(qid) and np.all(np.diff(bounds) > 0)
        inner = bounds[1:-1]
        assert np.all(qid[inner] != qid[inner - 1])  # a cut never splits a request
    assert len(group_bounds(qid, 2)) == 3


def test_the_kept_model_is_refit_on_train_and_validation() -> None:
    import pandas as pd
    import xgboost as xgb

    config = TrainingConfig(num_boost_round=60, early_stopping_rounds=10, threads=1)
    refit = train_model(TRAIN, VALID, FEATURES, config, seed=5)
    kept = train_model(TRAIN, VALID, FEATURES, config.model_copy(update={"refit": False}), seed=5)
    assert refit.best_iteration == kept.best_iteration  # the same early-stopped choice ...
    assert refit.refit_rows == len(TRAIN) + len(VALID) and kept.refit_rows is None
    both = matrix(pd.concat([TRAIN, VALID], ignore_index=True), FEATURES, config.objective)
    by_hand = xgb.train(refit.params, both, num_boost_round=refit.best_iteration + 1)
    # ... then exactly that many trees on both windows, not the train-only booster.
    np.testing.assert_array_equal(predict(refit.booster, TEST), predict(by_hand, TEST))
    assert not np.array_equal(predict(refit.booster, TEST), predict(kept.booster, TEST))


def _pandas_matrix(frame, features: list[str], objective: str):
    """The matrix as it was built before the array path: from pandas, sorted by group."""
    import xgboost as xgb

    label = frame["good"].astype(np.float32)
    if not objective.startswith("rank:"):
        return xgb.DMatrix(frame[features], label=label)
    order = np.argsort(frame[GROUP].to_numpy(), kind="stable")
    qid = frame[GROUP].to_numpy()[order]
    return xgb.DMatrix(frame.iloc[order][features], label=label.iloc[order], qid=qid)


@pytest.mark.parametrize("objective", ["binary:logistic", "rank:pairwise"])
@pytest.mark.parametrize("extra", ["float32", "int", "bool"])
def test_the_matrix_gives_the_trees_pandas_gave(objective: str, extra: str) -> None:
    import xgboost as xgb

    rng = np.random.default_rng(4)
    frame = TRAIN.sample(frac=1.0, random_state=1)  # requests interleaved
    frame["signal"] = frame["signal"].where(rng.random(len(frame)) > 0.2)  # NaN: missing
    frame["noise"] = frame["noise"].astype(np.float32)
    frame["extra"] = {
        "float32": rng.normal(size=len(frame)).astype(np.float32),
        "int": rng.integers(0, 4, len(frame)),  # not float: the pandas path types it "int"
        "bool": rng.random(len(frame)) > 0.5,
    }[extra]
    features = [*FEATURES, "extra"]
    fast, before = matrix(frame, features, objective), _pandas_matrix(frame, features, objective)
    assert fast.feature_names == before.feature_names
    assert fast.feature_types == before.feature_types
    np.testing.assert_array_equal(fast.get_label(), before.get_label())
    params = {"objective": objective, "tree_method": "hist", "seed": 5, "nthread": 1}
    params |= {"subsample": 0.8, "colsample_bytree": 0.8}
    trained = [xgb.train(params, data, num_boost_round=15) for data in (fast, before)]
    assert trained[0].save_raw("json") == trained[1].save_raw("json")  # the same trees


def test_a_categorical_feature_keeps_the_pandas_path_and_its_refusal() -> None:
    import pandas as pd

    frame = TRAIN.assign(extra=pd.Categorical(np.where(TRAIN["noise"] > 0, "a", "b")))
    with pytest.raises(ValueError, match="enable_categorical"):
        matrix(frame, [*FEATURES, "extra"], "binary:logistic")


def test_the_pipeline_fit_reads_what_it_needs_and_checks_the_rest(tmp_path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    import xgboost as xgb

    from engageflow.settings import Settings
    from training.pipeline import fit_model

    def dataset(drop: list[str]) -> dict:
        paths = {}
        for split, frame in (("train", TRAIN), ("validation", VALID)):
            path = tmp_path / f"{split}-{len(drop)}.parquet"
            pq.write_table(pa.Table.from_pandas(frame.drop(columns=drop)), path)
            paths[split] = str(path)
        return {"paths": paths, "features": FEATURES, "run": f"2026-01-09/run-{len(drop)}"}

    settings = Settings(
        data_dir=tmp_path, training={"num_boost_round": 30, "early_stopping_rounds": 5}
    )
    model = fit_model(settings, dataset([]))
    by_hand = train_model(TRAIN, VALID, FEATURES, settings.training, seed=settings.seed)
    booster = xgb.Booster(model_file=model["model_path"])
    np.testing.assert_array_equal(predict(booster, TEST), predict(by_hand.booster, TEST))
    with pytest.raises(DataError, match="train window: missing columns \\['policy'\\]"):
        fit_model(settings, dataset(["policy"]))


def test_the_refit_keeps_train_and_validation_groups_apart() -> None:
    from tests.unit.synthetic import FEATURES, impressions
    from training.columns import GROUP, fit_columns
    from training.train import refit_frame

    train, valid = impressions(30, 5, seed=1), impressions(20, 5, seed=2)
    both = refit_frame(train, valid, fit_columns(FEATURES))
    assert list(both.columns) == fit_columns(FEATURES) and len(both) == 250
    assert both[GROUP].nunique() == train[GROUP].nunique() + valid[GROUP].nunique()
    assert (both[GROUP].iloc[150:].to_numpy() > train[GROUP].max()).all()
