"""Drift bounds learned from the reference itself: how far a day lies from its neighbours when
nothing drifted, per feature, for the score, and for the good rate within each segment.

Each reference day is held against the other reference days (leave one day out) with the same
measure the day itself gets. For a feature or the score, the report's distance: those K values
are the null draws of "a day against its recent past"; a distance behaves like the size of a
day's random shift, so the bound is a Student-t prediction bound for a zero-mean normal draw
with its scale estimated from the K draws: bound = s * sqrt(1 + 1/K) * t_K(1 - a/2), s = the
draws' root mean square. For a segment (each value of a categorical feature, e.g. a topic), the
fall of its good rate in binomial standard errors: day-to-day swings beyond binomial noise are
learned as one dispersion pooled over every segment's draws, so even a small segment gets a
bound from many draws. The budget of false alarms per 30 days is split evenly over all columns
and segments (Bonferroni), so a day with no drift trips any one with chance at most
budget / 30. A floor from settings keeps a very quiet column from calling a shift too small to
matter drift.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from engageflow.settings import MonitoringConfig

# Two draws give one degree of freedom and bounds forty times the typical distance: below three
# reference days a bound says nothing, so the day is not judged on distances at all.
MIN_REFERENCE_DAYS = 3
DAYS_PER_BUDGET = 30
TINY = 1e-12
# A segment's good rate from fewer impressions is mostly noise: the segment is left out that day.
SEGMENT_ROWS = 200
SEGMENT_PREFIX = "good_rate["  # a segment column is named good_rate[<feature>=<value>]


@dataclass(frozen=True)
class Bounds:
    """Calibrated bound per column (features and the score), with how they were learned."""

    columns: dict[str, float]
    days: int  # reference days the null draws came from
    alpha: float  # each column's false-alarm chance per day


def distance(
    reference: pd.Series, current: pd.Series, categorical: bool, config: MonitoringConfig
) -> float:
    """The report's distance of one column (Evidently's own stattest): missing numbers aside,
    missing categories a category."""
    from evidently.legacy.calculations.stattests.registry import get_stattest
    from evidently.legacy.core import ColumnType

    from monitoring.reports import category_values

    kind = ColumnType.Categorical if categorical else ColumnType.Numerical
    method = config.cat_method if categorical else config.num_method
    if categorical:  # as the report sees them
        reference, current = category_values(reference), category_values(current)
    ref, cur = reference.dropna(), current.dropna()
    if ref.empty or cur.empty:
        return math.nan
    test = get_stattest(ref, cur, kind, method)
    return float(test(ref, cur, kind, 1.0).drift_score)


def distances(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    columns: list[str],
    categorical: set[str],
    config: MonitoringConfig,
) -> dict[str, float]:
    """Distance of each column of `current` from `reference`."""
    return {c: distance(reference[c], current[c], c in categorical, config) for c in columns}


Measure = Callable[[pd.DataFrame, pd.DataFrame], dict[str, float]]


def segment_declines(
    reference: pd.DataFrame, current: pd.DataFrame, segments: list[str]
) -> pd.DataFrame:
    """Per value of each segment column (index good_rate[<column>=<value>]): the relative drop
    of the good rate against `reference` (0.3: 30% lower) and its binomial standard error;
    values with too few rows on either side are left out."""
    from monitoring.reports import category_values

    rows = {}
    for column in segments:
        before, now = (
            frame.groupby(category_values(frame[column]))["good"].agg(["mean", "size"])
            for frame in (reference, current)
        )
        both = before.join(now, lsuffix="_ref", rsuffix="_cur", how="inner")
        both = both[(both[["size_ref", "size_cur"]].min(axis=1) >= SEGMENT_ROWS)]
        # A rate of 0 or 1 has no binomial spread to measure a fall in (e.g. ratings logs,
        # where every impression is engaged): such a segment is not judged.
        spread = both["mean_ref"].between(0, 1, inclusive="neither")
        for value, r in both[spread].iterrows():
            p = r["mean_ref"]
            se = math.sqrt(p * (1 - p) * (1 / r["size_ref"] + 1 / r["size_cur"])) / p
            rows[f"{SEGMENT_PREFIX}{column}={value}]"] = (1 - r["mean_cur"] / p, se)
    return pd.DataFrame.from_dict(rows, orient="index", columns=["drop", "se"])


def segment_bound(days: list[pd.DataFrame], segments: list[str], alpha: float) -> float:
    """How many standard errors a segment's good rate may fall on a day without drift: the
    reference days' own falls (leave one day out), their dispersion pooled over all segments
    (never below binomial), a one-sided Student-t bound."""
    falls: list[float] = []
    for k, day in enumerate(days):
        rest = pd.concat([d for j, d in enumerate(days) if j != k], ignore_index=True)
        declines = segment_declines(rest, day, segments)
        falls += list(declines["drop"] / declines["se"])
    if not falls:
        return math.inf
    dispersion = max(float(np.mean(np.square(falls))), 1.0)
    return math.sqrt(dispersion) * float(stats.t.ppf(1 - alpha, len(falls)))


def null_draws(days: list[pd.DataFrame], measure: Measure) -> pd.DataFrame:
    """One row per reference day: `measure` of it against the other days pooled."""
    rows = []
    for k, day in enumerate(days):
        rest = pd.concat([d for j, d in enumerate(days) if j != k], ignore_index=True)
        rows.append(measure(rest, day))
    return pd.DataFrame(rows)


def column_alpha(columns: int, config: MonitoringConfig) -> float:
    """Each column's false-alarm chance per day under the budget (Bonferroni over columns)."""
    return min(config.false_alarms_per_30_days / DAYS_PER_BUDGET, 1.0) / max(columns, 1)


def bounds_from_draws(draws: pd.DataFrame, floor: Callable[[str], float], alpha: float) -> Bounds:
    """The calibrated bound of each column from its null draws, never below its floor; a
    column with fewer than MIN_REFERENCE_DAYS draws gets none (it is not judged)."""
    counts = draws.notna().sum()
    usable = [c for c in draws.columns if counts[c] >= MIN_REFERENCE_DAYS]
    scale = np.sqrt((draws[usable] ** 2).mean())  # NaN draws aside
    columns = {}
    for c in usable:
        k = int(counts[c])
        factor = math.sqrt(1 + 1 / k) * float(stats.t.ppf(1 - alpha / 2, k))
        columns[c] = max(floor(c), float(scale[c]) * factor, TINY)
    return Bounds(columns, len(draws), alpha)


def calibrate(
    days: list[pd.DataFrame],
    measure: Measure,
    floor: Callable[[str], float],
    config: MonitoringConfig,
    segments: int = 0,
) -> Bounds:
    """Bounds for every column `measure` yields, learned from `days` (MIN_REFERENCE_DAYS+);
    `segments` more columns (judged elsewhere) share the false-alarm budget."""
    if len(days) < MIN_REFERENCE_DAYS:
        raise ValueError(f"calibration needs {MIN_REFERENCE_DAYS} reference days, got {len(days)}")
    draws = null_draws(days, measure)
    alpha = column_alpha(len(draws.columns) + segments, config)
    return bounds_from_draws(draws, floor, alpha)
