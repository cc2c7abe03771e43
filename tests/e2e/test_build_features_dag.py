"""Real runs of `build_features`: consecutive days and a rerun, offline without duplicates and
online at the newest values."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pyarrow.parquet as pq

from engageflow import lake
from engageflow.app.simulate import simulate
from engageflow.settings import Settings
from engageflow.simulator import POLICIES
from expectations.ingest import ingest_day
from feature_repo.sources import AREA
from feature_repo.store import feature_store
from feature_repo.tables import KEY, VIEWS

DAYS = [date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3)]


def _run(dagbag, day: date) -> str:
    return dagbag.get_dag("build_features").test(run_conf={"day": day.isoformat()}).state


def _offline(settings: Settings, view: str) -> pd.DataFrame:
    return pq.read_table(settings.root / AREA / view).to_pandas()


def test_consecutive_days_and_a_rerun(dagbag, settings: Settings) -> None:
    for done in simulate(settings, len(DAYS), POLICIES["random"]):
        ingest_day(settings, done.day)
    for day in DAYS:
        assert _run(dagbag, day) == "success"
    first = {view: _offline(settings, view) for view in VIEWS}

    assert _run(dagbag, DAYS[1]) == "success"  # an older day again, after a newer one
    for view in VIEWS:
        again = _offline(settings, view)
        pd.testing.assert_frame_equal(again, first[view])
        assert not again.duplicated([KEY[view], "event_timestamp"]).any(), view
        assert again["event_timestamp"].nunique() == len(DAYS)

    newest = lake.read_partition(settings.root, AREA, "user_engagement", DAYS[-1]).to_pandas()
    users = newest["user_id"].tolist()
    online = feature_store(settings).get_online_features(
        features=["user_engagement:user_impressions_28d", "user_engagement:user_clicks_1d"],
        entity_rows=[{"user_id": u} for u in users],
    )
    got = pd.DataFrame(online.to_dict())
    assert got["user_impressions_28d"].tolist() == newest["user_impressions_28d"].tolist()
    assert got["user_clicks_1d"].tolist() == newest["user_clicks_1d"].tolist()
