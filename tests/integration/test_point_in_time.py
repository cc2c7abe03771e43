"""The ASOF plan (feature_repo/point_in_time.py) against Feast's own `get_historical_features`
on a built feature world: every feature of every service, NaN-aware, rows in order, on the
day's real impressions and on rows placed at the edges of the point-in-time rule."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from engageflow import lake
from engageflow.settings import Settings
from feature_repo.apply import apply_if_changed
from feature_repo.historical import join_features, service_features
from feature_repo.point_in_time import plan
from feature_repo.store import feature_store
from tests.integration.conftest import FEATURE_DAYS
from training.dataset import TRAINING_ORDER, training_impressions


def _edge_rows(settings: Settings, impressions: pd.DataFrame) -> pd.DataFrame:
    """Real keys at the first tables' stamp and a microsecond before it, at the end of the
    newest rows' TTL and a microsecond after, between the stamps; some of a user and an item
    no table knows."""
    first, last = (
        lake.read_partition(settings.root, "features", "user_engagement", day)
        .column("event_timestamp")[0]
        .as_py()
        for day in FEATURE_DAYS
    )
    ttl = timedelta(days=settings.feast.ttl_days)
    tick = timedelta(microseconds=1)
    times = [first - tick, first, first + timedelta(hours=30), last + ttl, last + ttl + tick]
    rows = impressions.head(40).reset_index(drop=True)
    edges = pd.concat([rows.assign(ts=pd.Timestamp(t)) for t in times], ignore_index=True).astype(
        {"ts": "datetime64[us, UTC]"}
    )
    edges.loc[::7, "user_id"] = "nobody"
    edges.loc[::5, "item_id"] = "nothing"
    return edges


@pytest.mark.parametrize("service", ["ranker_v1", "ranker_v2"])
def test_the_asof_plan_gives_feasts_values(feature_world: Settings, service: str) -> None:
    settings = feature_world
    apply_if_changed(settings)
    store = feature_store(settings)
    assert plan(store, store.get_feature_service(service)) is not None  # the fast path ran
    real = training_impressions(settings, FEATURE_DAYS[1:], with_truth=False)
    impressions = pd.concat([real, _edge_rows(settings, real)], ignore_index=True)
    ours = join_features(store, impressions, service)
    feasts = join_features(store, impressions, service, via_feast=True)
    features = service_features(store, service)
    pd.testing.assert_frame_equal(ours, feasts, check_exact=True)
    assert list(ours.columns[-len(features) :]) == features
    # The edges reach both sides of the rule: windowed rows expire, history rows do not.
    late = ours["ts"] == ours["ts"].max()  # past every windowed row's TTL
    values = ours[features].to_numpy()
    assert np.isnan(values).any() and (~np.isnan(values)).any()
    assert ours.loc[late, "user_impressions_1d"].isna().any()
    if service == "ranker_v2":
        assert ours.loc[late & ours["user_lt_impressions"].notna()].shape[0] > 0
        assert ours["taste_similarity"].notna().any()
        assert ours["topic_affinity_match"].notna().any()


def test_rows_keep_the_given_order(feature_world: Settings) -> None:
    """Shuffled impressions come back in their own order, not the store's or time's."""
    settings = feature_world
    apply_if_changed(settings)
    store = feature_store(settings)
    real = training_impressions(settings, FEATURE_DAYS[1:], with_truth=False)
    shuffled = real.sample(frac=1.0, random_state=3)
    joined = join_features(store, shuffled, "ranker_v2")
    again = join_features(store, shuffled.sort_values(TRAINING_ORDER), "ranker_v2")
    assert (joined["request_id"].to_numpy() == shuffled["request_id"].to_numpy()).all()
    keyed = again.set_index(["request_id", "item_id"]).loc[
        pd.MultiIndex.from_frame(joined[["request_id", "item_id"]])
    ]
    features = service_features(store, "ranker_v2")
    np.testing.assert_array_equal(joined[features].to_numpy(), keyed[features].to_numpy())
