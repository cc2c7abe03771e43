"""The Evidently reports of a monitored day, with tests included so verdicts live in snapshots.

Drift uses a fixed method per column type (settings.monitoring: Wasserstein distance for
numbers, Jensen-Shannon for categories) rather than Evidently's size-dependent default, so a
sample of 20k rows and the full day reach the same verdict.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from engageflow.settings import MonitoringConfig

if TYPE_CHECKING:
    from evidently.core.report import Snapshot

# Integer-coded features that are categories, not quantities.
CATEGORICAL_FEATURES = frozenset({"topic", "device_code", "cold_start"})
SCORE = "score"
# `stamp` arguments are Report.run keywords: timestamp, tags and metadata of the snapshot.
OUTCOMES = ("good", "bad", "clicked")


def column_types(frame: pd.DataFrame, features: list[str]) -> tuple[list[str], list[str]]:
    """(numerical, categorical) features by dtype, with the known integer codes as categories."""
    numerical, categorical = [], []
    for name in features:
        numeric = pd.api.types.is_numeric_dtype(frame[name]) and frame[name].dtype != bool
        (numerical if numeric and name not in CATEGORICAL_FEATURES else categorical).append(name)
    return numerical, categorical


def category_values(values: pd.Series) -> pd.Series:
    """One spelling per category on both sides (int 3 and float 3.0 must not differ), with
    missing values a category of their own."""
    if pd.api.types.is_float_dtype(values) and (values.dropna() % 1 == 0).all():
        values = values.astype("Int64")  # a join that missed a row turns int codes into floats
    return values.astype("string").fillna("<missing>")


def _categories(frame: pd.DataFrame, categorical: list[str]) -> pd.DataFrame:
    return frame.assign(**{c: category_values(frame[c]) for c in categorical})


def drift_snapshot(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    features: list[str],
    config: MonitoringConfig,
    bounds: dict[str, float],
    stamp: dict[str, Any],
) -> Snapshot:
    """Data drift of the served features and prediction drift of the score vs the reference,
    each column tested against its own bound (`bounds`: SCORE and the features it judges)."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.metrics import MeanValue, RowCount, ValueDrift
    from evidently.presets import DataDriftPreset

    features = [f for f in features if f in bounds]
    numerical, categorical = column_types(reference, features)
    definition = DataDefinition(
        numerical_columns=[*numerical, SCORE], categorical_columns=categorical
    )
    columns = [*features, SCORE]

    def dataset(frame: pd.DataFrame) -> Dataset:
        data = _categories(frame[columns], categorical)
        return Dataset.from_pandas(data, data_definition=definition)

    report = Report(
        [
            DataDriftPreset(
                columns=features,
                # The dataset test fails as soon as one feature is beyond its bound: the
                # bounds already spend the false-alarm budget column by column.
                drift_share=1 / (2 * max(len(features), 1)),
                num_method=config.num_method,
                cat_method=config.cat_method,
                per_column_threshold={f: bounds[f] for f in features},
            ),
            ValueDrift(column=SCORE, method=config.num_method, threshold=bounds[SCORE]),
            MeanValue(column=SCORE),
            RowCount(),
        ],
        include_tests=True,
    )
    return report.run(dataset(current), dataset(reference), **stamp)


def policy_column(policy: str) -> str:
    """The good-engagement column of one policy's report (see `performance_snapshot`)."""
    return f"good_{policy}"


def performance_snapshot(
    frame: pd.DataFrame, stamp: dict[str, Any], policy: str | None = None
) -> Snapshot:
    """Engagement rates, mean score and, when both classes occur, AUC and log loss of `good`.

    A policy's report also carries its good rate under `good_<policy>`: Evidently 0.7's
    dashboard matches a series by metric and labels before tags, so series that differ only
    by tag would all read the first one's snapshots.
    """
    from evidently import BinaryClassification, DataDefinition, Dataset, Report
    from evidently.metrics import LogLoss, MeanValue, RocAuc, RowCount

    present = [c for c in OUTCOMES if c in frame.columns]
    data = frame[[*present, SCORE]].astype({c: int for c in present})
    if policy is not None:
        data[policy_column(policy)] = data["good"]
        present = [*present, policy_column(policy)]
    both = data["good"].nunique() == 2
    definition = DataDefinition(
        numerical_columns=[*present, SCORE],
        classification=[BinaryClassification(target="good", prediction_probas=SCORE)]
        if both
        else None,
    )
    metrics: list[Any] = [RowCount(), MeanValue(column=SCORE)]
    metrics += [MeanValue(column=c) for c in present]
    if both:
        metrics += [RocAuc(), LogLoss()]
    report = Report(metrics, include_tests=True)
    dataset = Dataset.from_pandas(data, data_definition=definition)
    return report.run(dataset, None, **stamp)


def quality_snapshot(events: pd.DataFrame, stamp: dict[str, Any]) -> Snapshot:
    """Data quality summary of the day's events (missing values, ranges, categories)."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataSummaryPreset

    columns = ["event_type", "dwell_seconds", "position", "policy", "device", "hour"]
    definition = DataDefinition(
        numerical_columns=["dwell_seconds", "position", "hour"],
        categorical_columns=["event_type", "policy", "device"],
    )
    dataset = Dataset.from_pandas(events[columns], data_definition=definition)
    return Report([DataSummaryPreset()], include_tests=True).run(dataset, None, **stamp)


def _number(value: Any) -> float | dict[str, float] | None:
    if isinstance(value, dict):
        numbers = {str(k): _number(v) for k, v in value.items()}
        return numbers if all(isinstance(v, float) for v in numbers.values()) else None
    return float(value) if isinstance(value, int | float) else None


def metric_values(snapshot: Snapshot) -> dict[str, Any]:
    """Numeric metric values by type and column, e.g. `ValueDrift:score`, `RocAuc`."""
    out: dict[str, Any] = {}
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        name = config["type"].rsplit(":", 1)[-1]
        key = f"{name}:{config['column']}" if config.get("column") else name
        value = _number(metric["value"])
        if value is not None:
            out.setdefault(key, value)
    return out


def failed_tests(snapshot: Snapshot) -> list[str]:
    """Names of the snapshot's failed tests (the pass/fail verdicts Evidently stored)."""
    tests = snapshot.dict().get("tests", [])
    return [t["name"] for t in tests if getattr(t["status"], "value", t["status"]) == "FAIL"]
