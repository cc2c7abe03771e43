"""Labelled impressions inside a window, judged only by what had happened before its end."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from engageflow.labels import impression_labels
from engageflow.settings import LabelConfig

DAY = timedelta(days=1)


def labelled_impressions(
    events: pd.DataFrame, config: LabelConfig, start: datetime, end: datetime
) -> pd.DataFrame:
    """Impressions shown in [start, end) with good/bad labels from events before `end` only.

    A click that comes after `end` is unknown at `end`: the impression then counts as unclicked.
    """
    before = events[events["ts"] < end]
    labelled = impression_labels(before, config)
    return labelled[labelled["ts"] >= start].reset_index(drop=True)


def active_keys(labelled: pd.DataFrame, key: str, end: datetime, days: int) -> pd.Index:
    """Keys with an impression in the `days` before `end`, sorted (the rows a daily table holds)."""
    recent = labelled.loc[labelled["ts"] >= end - days * DAY, key]
    return pd.Index(sorted(recent.unique()), name=key)


def stamped(frame: pd.DataFrame, end: datetime) -> pd.DataFrame:
    """Put the feature timestamp `end` (UTC, microseconds) right after the key column."""
    stamp = pd.Series(pd.Timestamp(end), index=frame.index).astype("datetime64[us, UTC]")
    frame.insert(1, "event_timestamp", stamp)
    return frame


def decay(then: pd.Series, stamp: pd.Timestamp, half_life_days: float) -> np.ndarray:
    """The weight at `stamp` of values stamped `then`: halved every `half_life_days`."""
    elapsed = ((stamp - pd.to_datetime(then, utc=True)) / DAY).to_numpy(dtype=float)
    return 0.5 ** (elapsed / half_life_days)
