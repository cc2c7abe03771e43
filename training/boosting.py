"""XGBoost helpers both engines share (in-process, training/train.py; Dask,
training/distributed.py): ranking groups (training/groups.py), the early-stopping cut."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xgboost as xgb

from training.columns import GROUP


def is_ranking(objective: str) -> bool:
    """Whether the objective ranks within groups (pairwise/listwise) rather than pointwise."""
    return objective.startswith("rank:")


def group_order(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The row order that sorts `frame` by ranking group (stable), and the sorted query ids."""
    codes = frame[GROUP].to_numpy()
    order = np.argsort(codes, kind="stable")
    return order, codes[order]


def by_group(frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """`frame` sorted by ranking group (stable) and its query ids, as ranking objectives want."""
    order, qid = group_order(frame)
    return frame.iloc[order], qid


def cut_at_best(booster: xgb.Booster) -> tuple[xgb.Booster, int, float]:
    """The booster up to its early-stopping best iteration, that iteration and its score."""
    best = int(booster.best_iteration)
    return booster[: best + 1], best, float(booster.best_score)
