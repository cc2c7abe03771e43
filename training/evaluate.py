"""Score models on the same recent window: one metrics table, and paired bootstrap differences.

Every model compared sees the same rows and the same seeded tie-break, so a difference in a
metric is a difference in the models. Probability metrics (log loss, NE, ECE) are reported only
for scores that are probabilities (pointwise models, baselines); they are NaN otherwise.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from engageflow.settings import TrainingConfig
from training import metrics
from training.columns import GROUP, LABEL

RANKING_FAMILIES = ("ndcg", "map", "mrr")
PER_REQUEST_COLUMN = {"ndcg": "ndcg", "map": "ap", "mrr": "rr"}


@dataclass(frozen=True)
class Scores:
    """One model's scores on the evaluation frame, in frame order."""

    name: str
    values: np.ndarray
    probabilities: bool


def tiebreak(frame: pd.DataFrame, seed: int) -> np.ndarray:
    """A seeded random key per row: ties fall the same way for every model compared."""
    return np.random.default_rng(seed).permutation(len(frame))


def metric_name(family: str, config: TrainingConfig) -> str:
    """MLflow-safe metric names: 'ndcg_at_10', 'bad_rate_at_5', 'auc'."""
    if family in ("ndcg", "map"):
        return f"{family}_at_{config.ranking_k}"
    if family in ("good_rate", "bad_rate", "snips_good_rate"):
        return f"{family}_at_{config.engagement_k}"
    return family


def evaluate_scores(
    frame: pd.DataFrame, scores: Scores, config: TrainingConfig, key: np.ndarray
) -> dict[str, float]:
    """Every metric of one model on the frame (key: the shared tie-break)."""
    y = frame[LABEL].to_numpy(dtype=float)
    s = scores.values
    requests = frame[GROUP].to_numpy()
    per = metrics.per_request(y, s, requests, config.ranking_k, key)
    good, bad = metrics.top_k_rates(
        y, frame["bad"].to_numpy(dtype=float), s, requests, config.engagement_k, key
    )
    nan = float("nan")
    result = {
        "logloss": metrics.logloss(y, s) if scores.probabilities else nan,
        "ne": metrics.normalized_entropy(y, s) if scores.probabilities else nan,
        "ece": metrics.ece(y, s, config.calibration_bins) if scores.probabilities else nan,
        "auc": metrics.auc(y, s),
        "gauc": metrics.gauc(y, s, frame["user_id"].to_numpy()),
        "position_auc": metrics.gauc(y, s, metrics.slate_positions(frame["position"].to_numpy())),
        "ndcg": float(per["ndcg"].mean()),
        "map": float(per["ap"].mean()),
        "mrr": float(per["rr"].mean()),
        "good_rate": good,
        "bad_rate": bad,
        "snips_good_rate": metrics.snips_top_k(
            y, s, requests, frame["propensity"].to_numpy(), config.engagement_k, key
        ),
    }
    return {metric_name(family, config): value for family, value in result.items()}


def comparison_table(
    frame: pd.DataFrame, models: list[Scores], config: TrainingConfig, seed: int
) -> pd.DataFrame:
    """One row per model, one column per metric, all on the same rows and tie-break."""
    key = tiebreak(frame, seed)
    rows = {m.name: evaluate_scores(frame, m, config, key) for m in models}
    return pd.DataFrame.from_dict(rows, orient="index")


@dataclass(frozen=True)
class Difference:
    """Challenger minus reference on one metric, with a paired bootstrap interval."""

    metric: str
    challenger: float
    reference: float
    difference: float
    lower: float
    upper: float


def bootstrap_difference(
    frame: pd.DataFrame,
    challenger: Scores,
    reference: Scores,
    family: str,
    config: TrainingConfig,
    seed: int,
) -> Difference:
    """Resample requests with replacement; both models are scored on each same resample.

    `scipy.stats.bootstrap` with `paired=True` over requests, seeded by `rng`. The interval is
    the percentile one: BCa's jackknife re-scores the metric once per request left out (one AUC
    per request, or an n x n array for the means), too slow for the gate at thousands of
    requests, and the gate's tolerance was set against percentile intervals.
    """
    key = tiebreak(frame, seed)
    y = frame[LABEL].to_numpy(dtype=float)
    requests = frame[GROUP].to_numpy()
    if family in RANKING_FAMILIES:
        column = PER_REQUEST_COLUMN[family]
        values = [
            metrics.per_request(y, m.values, requests, config.ranking_k, key)[column].to_numpy()
            for m in (challenger, reference)
        ]
        point = [float(v.mean()) for v in values]
        data: tuple[np.ndarray, ...] = tuple(values)

        def statistic(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
            return a.mean(axis=axis) - b.mean(axis=axis)

        vectorized = True
    else:
        within = (
            frame["user_id"].to_numpy()
            if family == "gauc"
            else metrics.slate_positions(frame["position"].to_numpy())
            if family == "position_auc"
            else None
        )
        codes, uniques = pd.factorize(requests, sort=False)

        def measure(scores: np.ndarray, weights: np.ndarray | None) -> float:
            if family == "auc":
                return metrics.auc(y, scores, weights)
            return metrics.gauc(y, scores, within, weights)

        point = [measure(m.values, None) for m in (challenger, reference)]
        data = (np.arange(len(uniques)),)  # a resample of requests = row weights by request

        def statistic(drawn: np.ndarray) -> float:
            weights = np.bincount(drawn, minlength=len(uniques)).astype(float)[codes]
            return measure(challenger.values, weights) - measure(reference.values, weights)

        vectorized = False
    lower, upper = _paired_interval(data, statistic, vectorized, config, seed)
    return Difference(
        metric_name(family, config),
        point[0],
        point[1],
        point[0] - point[1],
        lower,
        upper,
    )


def _paired_interval(
    data: tuple[np.ndarray, ...],
    statistic: Callable[..., Any],
    vectorized: bool,
    config: TrainingConfig,
    seed: int,
) -> tuple[float, float]:
    """The seeded percentile interval of `statistic` over paired resamples of `data`; resamples
    whose metric is undefined (NaN: an AUC without both classes) are left out."""
    with warnings.catch_warnings():  # NaN resamples are handled below, not a degenerate sample
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        result = stats.bootstrap(
            data,
            statistic,
            n_resamples=config.bootstrap_samples,
            batch=100,  # bounds memory at 100 x requests per batch
            vectorized=vectorized,
            paired=True,
            confidence_level=config.bootstrap_confidence,
            method="percentile",
            rng=np.random.default_rng(seed),
        )
    lower, upper = result.confidence_interval
    if np.isnan(lower) or np.isnan(upper):
        alpha = (1 - config.bootstrap_confidence) / 2
        lower, upper = np.nanquantile(result.bootstrap_distribution, [alpha, 1 - alpha])
    return float(lower), float(upper)
