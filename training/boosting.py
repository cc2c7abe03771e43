"""XGBoost helpers both engines share (in-process, training/train.py; Dask,
training/distributed.py): ranking groups by request, the early-stopping cut."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xgboost as xgb


def is_ranking(objective: str) -> bool:
    """Whether the objective ranks within groups (pairwise/listwise) rather than pointwise."""
    return objective.startswith("rank:")


def by_request(frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """`frame` sorted by request (stable) and its query ids, as ranking objectives want them."""
    codes, _ = pd.factorize(frame["request_id"], sort=True)
    order = np.argsort(codes, kind="stable")
    return frame.iloc[order], codes[order]


def cut_at_best(booster: xgb.Booster) -> tuple[xgb.Booster, int, float]:
    """The booster up to its early-stopping best iteration, that iteration and its score."""
    best = int(booster.best_iteration)
    return booster[: best + 1], best, float(booster.best_score)
