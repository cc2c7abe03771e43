"""The frame contract between the dataset step and training/evaluation: which columns mean what.

A frame has one row per impression: the meta columns below, the model's feature columns, and on
simulated data optionally the true chance of good engagement (`p_good`, for the oracle).
"""

from __future__ import annotations

import pandas as pd

from engageflow.errors import DataError

LABEL = "good"
META_COLUMNS = [
    "request_id",
    "user_id",
    "item_id",
    "ts",
    "position",
    "propensity",
    "policy",
    "good",
    "bad",
]
TRUTH_COLUMN = "p_good"
GROUP = "group_id"  # the ranking group of each row (training/groups.py), added per split


def feature_columns(frame: pd.DataFrame) -> list[str]:
    """Every column that is neither meta nor truth, in frame order."""
    reserved = {*META_COLUMNS, TRUTH_COLUMN, GROUP}
    return [column for column in frame.columns if column not in reserved]


def fit_columns(features: list[str]) -> list[str]:
    """The columns a fit reads: label, ranking group and features (training/train.py)."""
    return [LABEL, GROUP, *features]


def check_columns(columns: list[str], required: list[str], where: str) -> None:
    """Fail naming the columns of `required` that `columns` lacks."""
    missing = [c for c in required if c not in columns]
    if missing:
        raise DataError(f"{where}: missing columns {missing}; the dataset step must add them")


def check_frame(
    frame: pd.DataFrame, features: list[str], where: str, required: list[str] | None = None
) -> None:
    """Fail with what is wrong when a split cannot be trained or evaluated on; `required`:
    the columns it must hold besides `features` (default: every meta column and the group)."""
    required = [*META_COLUMNS, GROUP] if required is None else required
    check_columns(list(frame.columns), [*required, *features], where)
    if frame.empty:
        raise DataError(f"{where}: no rows; check the window's days were ingested")
    positives = int(frame[LABEL].sum())
    if positives in (0, len(frame)):
        raise DataError(
            f"{where}: {len(frame)} rows but {positives} with good engagement; a model needs "
            "both classes (widen the window or check the label thresholds in settings.labels)"
        )
