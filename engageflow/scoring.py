"""Scores from a registered booster, offline: the booster's own feature names pick the columns,
so training's evaluation and monitoring's recomputed scores read a frame the same way."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xgboost as xgb


def predict(booster: xgb.Booster, frame: pd.DataFrame) -> np.ndarray:
    """Scores for every row, in frame order (probabilities when pointwise)."""
    features = booster.feature_names
    if features is None:
        raise ValueError("the booster has no feature names; train it from a DataFrame")
    return booster.inplace_predict(frame[features]).astype(np.float64)
