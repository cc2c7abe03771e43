"""Engagement counts and rates per user or item over trailing windows (1, 7, 28 days)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pandas as pd

from feature_repo.transforms.labelled import DAY, active_keys, stamped

COUNTS = ("impressions", "clicks")
RATES = ("ctr", "good_rate", "bad_rate", "hide_rate", "report_rate", "mean_dwell")


def engagement_stats(
    labelled: pd.DataFrame, key: str, end: datetime, windows: Sequence[int]
) -> pd.DataFrame:
    """One row per key with an impression in the longest window plus a day, stamped `end`.

    Columns `<stat>_<w>d` for each window; rates are null where nothing was shown. The extra day
    gives a key that leaves the longest window one closing row of zeros, which overwrites its
    last online values. `days_since_last_click` counts from the last clicked impression.
    """
    longest = max(windows)
    keys = active_keys(labelled, key, end, longest + 1)
    columns: dict[str, pd.Series] = {}
    for days in windows:
        window = labelled[labelled["ts"] >= end - days * DAY]
        for name, series in _window_stats(window, key).items():
            columns[f"{name}_{days}d"] = series.reindex(keys)
    clicked = labelled[labelled["clicked"] & (labelled["ts"] >= end - longest * DAY)]
    last_click = clicked.groupby(key)["ts"].max().reindex(keys)
    columns["days_since_last_click"] = ((pd.Timestamp(end) - last_click) / DAY).astype("float32")
    frame = pd.DataFrame(columns, index=keys)
    for column in frame.columns:
        if column.startswith(COUNTS):
            frame[column] = frame[column].fillna(0).astype("int64")
    return stamped(frame.reset_index(), end)


def _window_stats(window: pd.DataFrame, key: str) -> dict[str, pd.Series]:
    grouped = window.assign(
        dwell=window["dwell_seconds"].where(window["clicked"]),
    ).groupby(key)
    shown = grouped.size()
    rate = {
        "ctr": "clicked",
        "good_rate": "good",
        "bad_rate": "bad",
        "hide_rate": "hidden",
        "report_rate": "reported",
    }
    stats = {"impressions": shown, "clicks": grouped["clicked"].sum()}
    for name, flag in rate.items():
        stats[name] = (grouped[flag].sum() / shown).astype("float32")
    stats["mean_dwell"] = grouped["dwell"].mean().astype("float32")
    return {name: stats[name] for name in (*COUNTS, *RATES)}
