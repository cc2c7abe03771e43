"""Reference scorers every model is compared with: popularity and, on simulated data, the oracle."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engageflow.errors import DataError
from training.columns import LABEL, TRUTH_COLUMN


def popularity_scores(train: pd.DataFrame, frame: pd.DataFrame, prior: float) -> np.ndarray:
    """Each item's good-engagement rate in the train window, shrunk towards the mean rate.

    `prior` pseudo-impressions at the mean rate keep rarely shown items from extreme rates;
    items never shown in the train window (cold start) get the mean rate.
    """
    mean = float(train[LABEL].mean())
    per_item = train.groupby("item_id")[LABEL].agg(["sum", "count"])
    rate = (per_item["sum"] + prior * mean) / (per_item["count"] + prior)
    return frame["item_id"].map(rate).fillna(mean).to_numpy(dtype=np.float64)


def oracle_scores(frame: pd.DataFrame) -> np.ndarray:
    """The simulator's true chance of good engagement: the best any model could score."""
    if TRUTH_COLUMN not in frame.columns or frame[TRUTH_COLUMN].isna().any():
        raise DataError(
            f"the oracle needs `{TRUTH_COLUMN}` on every row; it exists on simulated data only "
            "(truth/impressions), built with with_truth=True"
        )
    return frame[TRUTH_COLUMN].to_numpy(dtype=np.float64)
