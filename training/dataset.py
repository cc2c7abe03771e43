"""The training set: logged impressions with their labels, point-in-time joined with the
features of a FeatureService through Feast's offline store (DuckDB over the feature tables).

An impression shown at t gets the newest feature rows stamped at or before t (built from events
before that stamp), and the on-demand features computed with `request_ts = t`: exactly what the
ranker would have read online at that moment, so the model trains and serves on one definition.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from engageflow import lake, schema
from engageflow.errors import DataError
from engageflow.labels import IMPRESSION_KEY, impression_labels
from engageflow.settings import Settings
from feature_repo.historical import join_features, service_features
from training.columns import META_COLUMNS, TRUTH_COLUMN
from training.negatives import records_only_engagements, with_sampled_negatives

# Request ids are the service's random UUIDs: ordering ties by them gave every replay of the
# same seed another row order, and XGBoost's row subsampling another model (a user can hold
# two requests at one timestamp, hence the item before the request).
COLUMN_SET = "expect_table_columns_to_match_set"
TRAINING_ORDER = ["ts", "user_id", "position", "item_id", "request_id"]


def labelled_impressions(settings: Settings, day: date, with_truth: bool) -> pd.DataFrame:
    """One day's impressions with their labels (and the simulator's true p_good if asked)."""
    events = lake.read_partition(settings.root, "lake", "events", day, schema.EVENTS)
    if events is None:
        raise DataError(f"no lake/events for {day}: ingest (or simulate) that day first")
    frame = impression_labels(events.to_pandas(), settings.labels)
    if with_truth:
        truth = lake.read_partition(settings.root, "truth", "impressions", day)
        if truth is not None:
            truth = truth.to_pandas()[[*IMPRESSION_KEY, TRUTH_COLUMN]]
            frame = frame.merge(truth, on=IMPRESSION_KEY, how="left", validate="one_to_one")
    return frame


def _with_negatives(settings: Settings, day: date, impressions: pd.DataFrame) -> pd.DataFrame:
    """The day's impressions, plus sampled negatives when the log records only engagements."""
    if not records_only_engagements(impressions):
        return impressions
    catalog = lake.read_partition(settings.root, "lake", "items", day)
    ids = np.asarray(catalog.column("item_id").to_pylist() if catalog is not None else [])
    seed = settings.seed * 100_003 + day.toordinal()  # a replay samples the same items
    return with_sampled_negatives(impressions, ids, settings.training.sampled_negatives, seed)


def training_impressions(settings: Settings, days: list[date], with_truth: bool) -> pd.DataFrame:
    """The days' labelled impressions (with sampled negatives where needed), in training order."""
    return pd.concat(
        [
            _with_negatives(settings, day, labelled_impressions(settings, day, with_truth))
            for day in days
        ],
        ignore_index=True,
    ).sort_values(TRAINING_ORDER, kind="stable")


def joined_features(
    settings: Settings, impressions: pd.DataFrame, service_name: str, also: str | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """`impressions` with `service_name`'s features (and `also`'s others), the frame's columns."""
    from feature_repo.store import feature_store

    store = feature_store(settings)
    # The frame's columns picked before the join, so its 1M rows of features are not copied
    # again to reorder them (meta, features, the other service's, truth).
    meta = impressions[META_COLUMNS].astype({"propensity": np.float64})
    frame = join_features(store, meta, service_name)
    features = service_features(store, service_name)
    if also and also != service_name:
        joined = join_features(store, meta, also)
        others = [f for f in service_features(store, also) if f not in features]
        frame[others] = joined[others].to_numpy()
    if TRUTH_COLUMN in impressions:
        frame[TRUTH_COLUMN] = impressions[TRUTH_COLUMN].to_numpy()
    return frame, features


def check_training_set(frame: pd.DataFrame, features: list[str], days: list[date]) -> None:
    """The training set's GX suite over `frame`; a DataError naming the failed checks.

    GX copies and hashes every column of a batch (seconds for 1M rows of ~70 features), while
    only the column-set expectation looks past the meta columns, and it needs their names: it
    runs on the frame's header, every other expectation on the meta columns' rows (numbers
    widened: expectations/compat.py).
    """
    from expectations.compat import with_wide_numbers
    from expectations.derived_suites import training_set_suite
    from expectations.gate import validate

    suite = training_set_suite(META_COLUMNS, features)
    header = [e for e in suite["expectations"] if e["type"] == COLUMN_SET]
    rows = [e for e in suite["expectations"] if e["type"] != COLUMN_SET]
    for part, expectations in ((frame.iloc[:0], header), (None, rows)):
        # The rows once the columns are known there.
        part = with_wide_numbers(frame[META_COLUMNS]) if part is None else part
        checked = validate(part, {**suite, "expectations": expectations}, rows_are_records=False)
        if not checked.passed:
            raise DataError(
                f"training set for {days[0]}..{days[-1]} failed its checks: "
                f"{'; '.join(checked.batch_failures)}"
            )


def training_frame(
    settings: Settings,
    days: list[date],
    service_name: str,
    with_truth: bool = False,
    also: str | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """The days' labelled impressions joined with `service_name`'s features, in time order;
    `also` names another service whose features join too (a champion trained on it is scored
    on the same rows), without becoming the returned features."""
    impressions = training_impressions(settings, days, with_truth)
    frame, features = joined_features(settings, impressions, service_name, also)
    check_training_set(frame, features, days)
    return frame, features
