"""Online must equal offline after a real materialize, to SQLite and to Redis; the parity check
notices when the online store is tampered with."""

from __future__ import annotations

import pandas as pd
import pytest

from engageflow import lake
from engageflow.settings import Settings
from feature_repo.apply import apply_if_changed
from feature_repo.materialize import materialize_days
from feature_repo.parity import ParityError, check_parity, sample_keys
from feature_repo.sources import AREA
from feature_repo.store import feature_store
from tests.integration.conftest import FEATURE_DAYS


@pytest.fixture(params=["sqlite", "redis"])
def online_world(request, feature_world: Settings) -> Settings:
    """The feature world, applied and materialized into the online store under test."""
    if request.param == "redis":
        feature_world.feast.online_store = "redis"
        feature_world.feast.redis_connection = request.getfixturevalue("redis_db")
    feature_world.feast.parity_sample = 50
    assert apply_if_changed(feature_world)
    return feature_world


def test_parity_holds_after_a_real_materialize(online_world: Settings) -> None:
    done = materialize_days(online_world, FEATURE_DAYS)
    assert done.end == pd.Timestamp("2026-01-03", tz="UTC")
    compared = check_parity(online_world, done.end)
    assert set(compared) >= {"user_engagement", "item_embedding", "user_topic_affinity"}
    assert all(count > 0 for count in compared.values())
    assert feature_store(online_world).config.online_store.type == online_world.feast.online_store


def test_parity_fails_when_an_online_value_was_tampered_with(online_world: Settings) -> None:
    done = materialize_days(online_world, FEATURE_DAYS)
    victim = sample_keys(online_world, "user_engagement", FEATURE_DAYS[-1])[0]
    table = lake.read_partition(online_world.root, AREA, "user_engagement", FEATURE_DAYS[-1])
    row = table.to_pandas().query("user_id == @victim")
    # A later stamp, so Redis (which skips writes of the same instant) takes it too.
    row = row.assign(
        user_clicks_28d=row["user_clicks_28d"] + 7,
        event_timestamp=row["event_timestamp"] + pd.Timedelta(seconds=1),
    )
    feature_store(online_world).write_to_online_store("user_engagement", row)
    with pytest.raises(ParityError, match=f"user_engagement {victim} user_clicks_28d"):
        check_parity(online_world, done.end)
