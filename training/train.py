"""Fit the XGBoost ranker: pointwise (good engagement) or pairwise/listwise grouped by request.

Early stopping watches the validation window and picks the number of trees; the kept booster is
then refit with that many trees on train + validation (`training.refit`), so it learns from the
newest days before the test window: after a drift, those are the days that show it.
An optional random search over a few tree settings runs within a time budget, seeded. With
`training.dask_scheduler` set, the same fits run on that dask.distributed cluster
(training/distributed.py) and return the same kind of Booster.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd
import xgboost as xgb

from engageflow.settings import TrainingConfig
from training.boosting import cut_at_best, group_order, is_ranking
from training.columns import GROUP, LABEL, check_frame, fit_columns

SEARCH_SPACE: dict[str, list[Any]] = {
    "max_depth": [3, 4, 6, 8],
    "learning_rate": [0.05, 0.1, 0.2],
    "min_child_weight": [1.0, 5.0, 20.0],
    "subsample": [0.7, 0.85, 1.0],
    "colsample_bytree": [0.6, 0.8, 1.0],
}


@dataclass
class Trained:
    """A fitted booster (cut at its best iteration) and what it took to fit it."""

    booster: xgb.Booster
    features: list[str]
    params: dict[str, Any]
    best_iteration: int
    validation_score: float
    imbalance: str  # how class imbalance was handled, for the run's params
    positive_rate: float
    seconds: float
    trials: list[dict[str, Any]] = field(default_factory=list)
    engine: str = "local"  # "local" (this process) or "dask" (settings.training.dask_scheduler)
    refit_rows: int | None = None  # rows of the train + validation refit; None: train only


def matrix(frame: pd.DataFrame, features: list[str], objective: str) -> xgb.DMatrix:
    """A DMatrix of the features and label; for ranking objectives sorted by group (qid)."""
    data, typed = feature_data(frame, features)
    label = frame[LABEL].to_numpy(dtype=np.float32)
    if not is_ranking(objective):
        return xgb.DMatrix(data, label=label, **typed)
    order, qid = group_order(frame)
    rows = data[order] if isinstance(data, np.ndarray) else data.iloc[order]
    return xgb.DMatrix(rows, label=label[order], qid=qid, **typed)


def feature_data(
    frame: pd.DataFrame, features: list[str]
) -> tuple[np.ndarray | pd.DataFrame, dict[str, Any]]:
    """The features for a DMatrix, and the names and types to give it with them.

    Float columns go in as one float32 array typed "float", as XGBoost types them from pandas:
    the same matrix and trees, without XGBoost's per-column pandas conversion (about twice the
    time on 1M rows). Any other dtype keeps the pandas path, which knows how to type it.
    """
    dtypes = [frame[name].dtype for name in features]
    if all(isinstance(dtype, np.dtype) and dtype.kind == "f" for dtype in dtypes):
        array = frame[features].to_numpy(dtype=np.float32)
        return array, {"feature_names": list(features), "feature_types": ["float"] * len(features)}
    return frame[features], {}


def base_params(config: TrainingConfig, seed: int, positive_rate: float) -> tuple[dict, str]:
    """XGBoost parameters from settings, and a description of the class-imbalance handling."""
    params: dict[str, Any] = {
        "objective": config.objective,
        "tree_method": "hist",
        "max_depth": config.max_depth,
        "learning_rate": config.learning_rate,
        "min_child_weight": config.min_child_weight,
        "subsample": config.subsample,
        "colsample_bytree": config.colsample_bytree,
        "seed": seed,
        "eval_metric": eval_metric(config),
    }
    if config.threads:
        params["nthread"] = config.threads
    if is_ranking(config.objective):
        return params, "none (ranking objective: pairs within a request carry the imbalance)"
    if config.imbalance == "scale_pos_weight":
        params["scale_pos_weight"] = (1.0 - positive_rate) / positive_rate
        return params, f"scale_pos_weight={params['scale_pos_weight']:.3f}"
    return params, f"none (positive rate {positive_rate:.4f}; keeps probabilities calibrated)"


def eval_metric(config: TrainingConfig) -> str:
    """The early-stopping metric: log loss when pointwise, NDCG@k when ranking."""
    return f"ndcg@{config.ranking_k}" if is_ranking(config.objective) else "logloss"


def fit(
    train: xgb.DMatrix,
    valid: xgb.DMatrix,
    params: dict[str, Any],
    config: TrainingConfig,
) -> tuple[xgb.Booster, int, float]:
    """One early-stopped fit; the booster is cut at its best iteration."""
    booster = xgb.train(
        params,
        train,
        num_boost_round=config.num_boost_round,
        evals=[(valid, "validation")],
        early_stopping_rounds=config.early_stopping_rounds,
        verbose_eval=False,
    )
    return cut_at_best(booster)


def fit_rounds(data: xgb.DMatrix, params: dict[str, Any], rounds: int) -> xgb.Booster:
    """A fit of exactly `rounds` trees, with nothing to stop early on (the refit)."""
    return xgb.train(params, data, num_boost_round=rounds, verbose_eval=False)


class Engine(Protocol):
    """Where fits run: builds the matrices and fits on them."""

    name: str

    def matrix(self, frame: pd.DataFrame, features: list[str], objective: str) -> Any: ...

    def fit(
        self, train: Any, valid: Any, params: dict[str, Any], config: TrainingConfig
    ) -> tuple[xgb.Booster, int, float]: ...

    def fit_rounds(self, data: Any, params: dict[str, Any], rounds: int) -> xgb.Booster: ...


class LocalEngine:
    """Fits in this process (XGBoost's own threads)."""

    name = "local"

    def matrix(self, frame: pd.DataFrame, features: list[str], objective: str) -> xgb.DMatrix:
        return matrix(frame, features, objective)

    def fit(
        self, train: xgb.DMatrix, valid: xgb.DMatrix, params: dict[str, Any], config: TrainingConfig
    ) -> tuple[xgb.Booster, int, float]:
        return fit(train, valid, params, config)

    def fit_rounds(self, data: xgb.DMatrix, params: dict[str, Any], rounds: int) -> xgb.Booster:
        return fit_rounds(data, params, rounds)


@contextmanager
def engine(config: TrainingConfig) -> Iterator[Engine]:
    """In-process, or a client of the Dask scheduler named by `config.dask_scheduler`."""
    if config.dask_scheduler is None:
        yield LocalEngine()
        return
    from training.distributed import dask_engine

    with dask_engine(config.dask_scheduler) as remote:
        yield remote


def train_model(
    train: pd.DataFrame,
    valid: pd.DataFrame,
    features: list[str],
    config: TrainingConfig,
    seed: int,
) -> Trained:
    """Fit on the train window, stop early on the validation window, search if budgeted; then
    refit the chosen params and tree count on both windows when `config.refit`."""
    # Only what a fit reads: the pipeline checks the rest of the frame contract on the files.
    required = fit_columns([])
    check_frame(train, features, "train window", required)
    check_frame(valid, features, "validation window", required)
    started = time.perf_counter()
    positive_rate = float(train[LABEL].mean())
    params, imbalance = base_params(config, seed, positive_rate)
    candidates = [params, *search_candidates(params, config, seed)]
    sign = 1.0 if is_ranking(config.objective) else -1.0  # NDCG rises, log loss falls
    trials: list[dict[str, Any]] = []
    best: tuple[xgb.Booster, int, float, dict] | None = None
    with engine(config) as runner:
        dtrain = runner.matrix(train, features, config.objective)
        dvalid = runner.matrix(valid, features, config.objective)
        for number, candidate in enumerate(candidates):
            over_budget = time.perf_counter() - started > config.search_budget_seconds
            if number > 0 and over_budget:
                break
            booster, iteration, score = runner.fit(dtrain, dvalid, candidate, config)
            trials.append({**_searched(candidate), "best_iteration": iteration, "score": score})
            if best is None or sign * score > sign * best[2]:
                best = (booster, iteration, score, candidate)
        assert best is not None
        booster, iteration, score, chosen = best
        refit_rows = None
        if config.refit:
            both = refit_frame(train, valid, fit_columns(features))
            booster = runner.fit_rounds(
                runner.matrix(both, features, config.objective), chosen, iteration + 1
            )
            refit_rows = len(both)
    return Trained(
        booster=booster,
        features=list(features),
        params=chosen,
        best_iteration=iteration,
        validation_score=score,
        imbalance=imbalance,
        positive_rate=positive_rate,
        seconds=time.perf_counter() - started,
        trials=trials,
        engine=runner.name,
        refit_rows=refit_rows,
    )


def _searched(params: dict[str, Any]) -> dict[str, Any]:
    return {key: params[key] for key in SEARCH_SPACE}


def search_candidates(
    params: dict[str, Any], config: TrainingConfig, seed: int
) -> list[dict[str, Any]]:
    """Seeded random draws from SEARCH_SPACE (none when the budget is zero)."""
    if config.search_budget_seconds <= 0:
        return []
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(config.search_max_trials - 1):
        drawn = {key: values[rng.integers(len(values))] for key, values in SEARCH_SPACE.items()}
        draws.append({**params, **drawn})
    return draws


def refit_frame(train: pd.DataFrame, valid: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Train then validation rows, only the `columns` a fit reads (a wide frame's text columns
    would be copied for nothing); validation's groups numbered after train's, since each split
    numbers its own from 0 and group k of both would otherwise be one ranking query."""
    later = valid[columns].assign(**{GROUP: valid[GROUP] + train[GROUP].max() + 1})
    return pd.concat([train[columns], later], ignore_index=True)
