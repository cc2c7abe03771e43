"""A fixed-size, seeded sample stratified by policy, so a report costs the same on any day.

Each policy gets a share of `size` proportional to its rows (at least one row when it has any,
so a small canary is never sampled away); a day smaller than `size` is used whole.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def allocate(counts: pd.Series, size: int) -> pd.Series:
    """Rows to draw per stratum: proportional, largest remainders first, at least one each."""
    total = int(counts.sum())
    if total <= size:
        return counts.copy()
    exact = counts * size / total
    take = np.maximum(np.floor(exact), 1).astype(int).clip(upper=counts)
    order = (exact - np.floor(exact)).sort_values(ascending=False, kind="stable").index
    for key in order:
        if take.sum() >= size:
            break
        if take[key] < counts[key]:
            take[key] += 1
    return take


def stratified_sample(frame: pd.DataFrame, by: str, size: int, seed: int) -> pd.DataFrame:
    """At most `size` rows of `frame`, stratified by column `by`, the same rows for one seed."""
    if len(frame) <= size:
        return frame
    groups = frame.groupby(by, sort=True, dropna=False).indices
    counts = pd.Series({key: len(rows) for key, rows in groups.items()})
    take = allocate(counts, size)
    rng = np.random.default_rng(seed)
    chosen = [rng.choice(groups[key], int(take[key]), replace=False) for key in counts.index]
    return frame.iloc[np.sort(np.concatenate(chosen))]
