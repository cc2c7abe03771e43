"""What a day's features, scores and segments' good rates are held against: the newest
undrifted served days, like for like, with bounds calibrated on those days
(monitoring/calibration.py).

Why served days and not the champion's training data: a model changes what is shown, so the
first days it serves differ from its training days for reasons that are not drift, and a
catalog that grows moves per-item counts away from a fixed reference every day. Rows are
compared within one policy (the champion's, else the day's most common), because each policy
shows different items; the champion's rows only with days it served itself. Every side is
scored by the champion, so the score's distance is a change of its inputs, not of who served.
Drifted days are never a reference.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pandas as pd

from engageflow.schema import Policy
from engageflow.settings import MonitoringConfig, Settings
from monitoring import calibration, reports
from monitoring.baseline import undrifted_days
from monitoring.calibration import Measure
from monitoring.champion import Champion
from monitoring.served import (
    champion_scores,
    current_sample,
    day_events,
    labelled_impressions,
)
from monitoring.stored import monitoring_dir

SAMPLE_FILE = "sample.parquet"
# A reference day with fewer of the compared policy's rows says little about that policy.
MIN_DAY_ROWS = 50
NO_POLICY = "<none>"  # imported logs without a policy are one stratum


@dataclass(frozen=True)
class DriftCheck:
    """The day's rows and the reference rows of one policy, scored by the champion; what the
    day measured and the bound of each, calibrated: distances of every feature and the score,
    and the good rate's fall within every segment."""

    reference: pd.DataFrame
    current: pd.DataFrame
    measured: dict[str, float]  # distance by column
    bounds: calibration.Bounds
    declines: pd.DataFrame  # drop and its standard error by segment
    segment_z: float  # standard errors a segment may fall on a day without drift
    segment_floor: float
    days: list[date]
    policy: str

    def judged(self) -> dict[str, tuple[float, float]]:
        """(measure, bound) of every column and segment with both."""
        pairs = {c: (self.measured.get(c, math.nan), b) for c, b in self.bounds.columns.items()}
        segments = {
            name: (float(r["drop"]), max(self.segment_floor, self.segment_z * float(r["se"])))
            for name, r in self.declines.iterrows()
        }
        return {c: (m, b) for c, (m, b) in {**pairs, **segments}.items() if not math.isnan(m)}

    def describe(self) -> str:
        listed = ", ".join(d.isoformat() for d in self.days)
        columns = len(self.bounds.columns) + len(self.declines)
        budget = self.bounds.alpha * columns * calibration.DAYS_PER_BUDGET
        return (
            f"{self.policy} rows vs served {listed}; bounds allow {budget:g} false alarm in "
            f"{calibration.DAYS_PER_BUDGET} days over {columns} columns and segments"
        )


@dataclass(frozen=True)
class Unjudged:
    reason: str


def stratum(frame: pd.DataFrame) -> pd.Series:
    return frame["policy"].astype("string").fillna(NO_POLICY)


def compared_policy(current: pd.DataFrame) -> str:
    """The champion's rows when it served the day, else the most common policy's."""
    counts = stratum(current).value_counts()
    return Policy.CHAMPION.value if Policy.CHAMPION.value in counts.index else str(counts.idxmax())


def stored_sample(settings: Settings, day: date, model: Champion) -> pd.DataFrame | None:
    """The sample monitoring judged `day` on, when it holds every feature of `model`."""
    path = monitoring_dir(settings, day) / SAMPLE_FILE
    if not path.is_file():
        return None
    frame = pd.read_parquet(path)
    return frame if set(model.features) <= set(frame.columns) else None


def day_sample(settings: Settings, day: date, model: Champion) -> pd.DataFrame:
    """The sample of a served day: the stored one, else drawn again from the lake and Feast."""
    stored = stored_sample(settings, day, model)
    if stored is not None:
        return stored
    impressions = labelled_impressions(settings, day_events(settings, day))
    return current_sample(settings, day, impressions, model)


def rescored(settings: Settings, frame: pd.DataFrame, model: Champion) -> pd.DataFrame:
    return frame.assign(score=champion_scores(settings, model, frame))


def reference_days(
    settings: Settings, day: date, model: Champion, policy: str
) -> list[tuple[date, pd.DataFrame]]:
    """The newest undrifted days with enough `policy` rows. The champion's rows come only from
    days it served itself: another model's choices would read as drift on its first days."""
    candidates = undrifted_days(settings, day)
    own = policy == Policy.CHAMPION.value
    found = []
    for earlier, by in candidates:
        if own and by != model.version:
            continue
        sample = day_sample(settings, earlier, model)
        rows = sample[stratum(sample) == policy]
        if len(rows) >= MIN_DAY_ROWS:
            found.append((earlier, rows))
        if len(found) == settings.monitoring.drift_reference_days:
            break
    return sorted(found, key=lambda pair: pair[0])


def floor_of(categorical: set[str], config: MonitoringConfig) -> Callable[[str], float]:
    """The least bound of a column: shifts below it never matter."""

    def floor(column: str) -> float:
        if column == reports.SCORE:
            return config.score_floor
        return config.cat_floor if column in categorical else config.num_floor

    return floor


def measure_of(features: list[str], categorical: list[str], config: MonitoringConfig) -> Measure:
    """Every feature's and the score's distance from the reference."""
    columns = [*features, reports.SCORE]
    return lambda reference, current: calibration.distances(
        reference, current, columns, set(categorical), config
    )


def drift_check(
    settings: Settings, day: date, current: pd.DataFrame, model: Champion
) -> DriftCheck | Unjudged:
    """The day's like-for-like rows, reference and bounds, or why its distances are not judged."""
    policy = compared_policy(current)
    mine = current[stratum(current) == policy]
    if len(mine) < MIN_DAY_ROWS:
        return Unjudged(f"distances not judged: {len(mine)} {policy} rows in the day's sample")
    found = reference_days(settings, day, model, policy)
    if len(found) < calibration.MIN_REFERENCE_DAYS:
        whose = f" served by v{model.version}" if policy == Policy.CHAMPION.value else ""
        return Unjudged(
            f"distances not judged: {len(found)} undrifted days{whose} with {policy} rows in "
            f"the last {settings.monitoring.baseline_lookback_days} days, "
            f"{calibration.MIN_REFERENCE_DAYS} needed to calibrate their bounds"
        )
    days = [rescored(settings, rows, model) for _, rows in found]
    _, categorical = reports.column_types(days[0], model.features)
    config = settings.monitoring
    reference, mine = pd.concat(days, ignore_index=True), rescored(settings, mine, model)
    # A segment's good rate is judged where it has enough rows (the features' categories).
    declines = calibration.segment_declines(reference, mine, categorical)
    measure = measure_of(model.features, categorical, config)
    floor = floor_of(set(categorical), config)
    bounds = calibration.calibrate(days, measure, floor, config, segments=len(declines))
    return DriftCheck(
        reference=reference,
        current=mine,
        measured=measure(reference, mine),
        bounds=bounds,
        declines=declines,
        segment_z=calibration.segment_bound(days, categorical, bounds.alpha),
        segment_floor=config.good_rate_drop,
        days=[d for d, _ in found],
        policy=policy,
    )
