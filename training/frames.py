"""INTERIM frame builder: labelled impressions plus catalog features, read straight from the lake.

Until the Feast dataset (point-in-time join over the feature views) is wired, this builds the
frames `train.py` and `evaluate.py` take, for tests and benchmarks. The real dataset module
replaces `catalog_features` and keeps the contract in `training/columns.py`.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from engageflow import lake, schema
from engageflow.errors import DataError
from engageflow.labels import IMPRESSION_KEY, impression_labels
from engageflow.settings import Settings
from training.columns import META_COLUMNS, TRUTH_COLUMN

INTERIM_FEATURE_SERVICE = "interim_catalog_features"
INTERIM_FEATURES = [
    "topic",
    "headline_sensationalism",
    "production_score",
    "duration_seconds",
    "item_age_hours",
    "hour",
    "device_code",
    "user_clicks_history",
    "user_topic_click_share",
    "user_topic_good_share",
]
HISTORY_DAYS = 7  # interim only: the Feast user_topic view owns its own windows
DEVICE_CODES = {device.value: code for code, device in enumerate(schema.Device)}


def catalog_features(impressions: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """Item metadata as of the day, the item's age when shown, and the request's context."""
    catalog = items.drop(columns=["creator_id"]).set_index("item_id")
    out = impressions.join(catalog, on="item_id", how="left")
    unknown = out["created_at"].isna()
    if unknown.any():
        example = out.loc[unknown, "item_id"].iloc[0]
        raise DataError(
            f"{int(unknown.sum())} impressions show items missing from the day's catalog "
            f"(e.g. {example!r}): ingest the catalog of that day (`engageflow ingest`)"
        )
    out["item_age_hours"] = (out["ts"] - out["created_at"]).dt.total_seconds() / 3600.0
    out["device_code"] = out["device"].map(DEVICE_CODES).astype("float32")
    out["topic"] = out["topic"].astype("int32")
    return out


def _read(settings: Settings, area: str, dataset: str, day: date, contract=None) -> pd.DataFrame:
    table = lake.read_partition(settings.root, area, dataset, day, contract)
    if table is None:
        folder = lake.partition_dir(settings.root, area, dataset, day)
        raise DataError(f"{folder} is missing: ingest (or simulate) {day} first")
    return table.to_pandas()


def user_history(past: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per user, and per (user, topic): clicks and good engagements in the past impressions."""
    counts = past.assign(clicks=past["clicked"], goods=past["good"])[
        ["user_id", "topic", "clicks", "goods"]
    ]
    per_topic = counts.groupby(["user_id", "topic"])[["clicks", "goods"]].sum()
    per_user = counts.groupby("user_id")[["clicks", "goods"]].sum()
    return per_user, per_topic


def history_features(frame: pd.DataFrame, past: pd.DataFrame) -> pd.DataFrame:
    """Add the user's click count and topic shares of clicks and good engagement, from `past`."""
    per_user, per_topic = user_history(past)
    user = frame.join(per_user, on="user_id")
    topic = frame.join(per_topic, on=["user_id", "topic"])
    out = frame.copy()
    out["user_clicks_history"] = user["clicks"].fillna(0).to_numpy(dtype="float32")
    # No history: NaN, which XGBoost routes down its learned default branch.
    out["user_topic_click_share"] = (topic["clicks"].fillna(0) / user["clicks"]).to_numpy()
    out["user_topic_good_share"] = (topic["goods"].fillna(0) / user["goods"]).to_numpy()
    return out


def _labelled(settings: Settings, day: date) -> pd.DataFrame | None:
    """A day's labelled impressions with catalog features; None when the day is not in the lake."""
    if not lake.partition_files(settings.root, "lake", "events", day):
        return None
    events = _read(settings, "lake", "events", day, schema.EVENTS)
    items = _read(settings, "lake", "items", day, schema.ITEMS)
    return catalog_features(impression_labels(events, settings.labels), items)


def interim_frame(settings: Settings, days: list[date], with_truth: bool = False) -> pd.DataFrame:
    """The days' labelled impressions with the interim features, in time order.

    History features of day D use only the HISTORY_DAYS before D (point in time); days before
    the lake's first day simply contribute no history.
    """
    first = min(days) - timedelta(days=HISTORY_DAYS)
    span = [first + timedelta(days=i) for i in range((max(days) - first).days + 1)]
    labelled = {day: _labelled(settings, day) for day in span}
    frames = []
    for day in days:
        if labelled[day] is None:
            raise DataError(f"no lake/events for {day}: ingest (or simulate) that day first")
        past = [
            labelled[d]
            for d in span
            if day - timedelta(days=HISTORY_DAYS) <= d < day and labelled[d] is not None
        ]
        history = pd.concat(past) if past else labelled[day].iloc[:0]
        frame = history_features(labelled[day], history)
        if with_truth:
            truth = _read(settings, "truth", "impressions", day)[[*IMPRESSION_KEY, TRUTH_COLUMN]]
            frame = frame.merge(truth, on=IMPRESSION_KEY, how="left")
        keep = [*META_COLUMNS, *INTERIM_FEATURES] + ([TRUTH_COLUMN] if with_truth else [])
        frames.append(frame[keep])
    out = pd.concat(frames, ignore_index=True)
    out["propensity"] = out["propensity"].astype(np.float64)
    return out
