"""Feast's PostgreSQL offline store on a real, throwaway database: the build loads each day
idempotently, point-in-time joins equal DuckDB's on the same entity rows, materialize works."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from engageflow.settings import Settings
from feature_repo.apply import apply_if_changed
from feature_repo.historical import join_features, service_features
from feature_repo.materialize import materialize_days
from feature_repo.offline import build_offline
from feature_repo.offline_postgres import PostgresOfflineSettingsError, row_counts
from feature_repo.parity import check_parity, same_value
from feature_repo.store import feature_store, repo_config
from feature_repo.tables import VIEWS, feature_names, table_schemas
from tests.integration.conftest import FEATURE_DAYS
from training.dataset import labelled_impressions

pytestmark = pytest.mark.integration


@pytest.fixture
def pg_world(settings: Settings, postgres_url: str, request: pytest.FixtureRequest) -> Settings:
    """The feature world built with the PostgreSQL offline store, its definitions applied."""
    settings.feast.offline_store = "postgres"
    settings.feast.offline_uri = postgres_url
    request.getfixturevalue("feature_world")
    apply_if_changed(settings)
    return settings


def _parquet_rows(settings: Settings) -> dict[str, int]:
    return {
        view: sum(
            len(pd.read_parquet(p)) for p in (settings.root / "features" / view).rglob("*.parquet")
        )
        for view in VIEWS
    }


def test_each_day_is_loaded_once_however_often_it_is_built(pg_world: Settings) -> None:
    settings = pg_world
    assert row_counts(settings) == _parquet_rows(settings)
    assert all(n > 0 for n in row_counts(settings).values())
    build_offline(settings, FEATURE_DAYS[0])  # a rerun replaces the day's rows
    assert row_counts(settings) == _parquet_rows(settings)


def test_point_in_time_join_equals_duckdb_and_materialize_works(pg_world: Settings) -> None:
    settings = pg_world
    store = feature_store(settings)
    assert store.config.offline_store.type == "postgres"
    impressions = labelled_impressions(settings, date(2026, 1, 2), with_truth=False).head(300)
    # Impressions of day 2 see day 1's rows; shift a third past day 2's stamp to see those too.
    later = impressions.index % 3 == 0
    impressions.loc[later, "ts"] = impressions.loc[later, "ts"] + pd.Timedelta(days=1)
    on_postgres = join_features(store, impressions, "ranker_v1")

    # The same Parquet partitions through DuckDB, with its own registry of FileSources.
    registry = str(settings.root / "feast" / "duckdb_registry.db")
    duckdb = settings.model_copy(
        update={
            "feast": settings.feast.model_copy(
                update={"offline_store": "duckdb", "registry_uri": registry}
            )
        }
    )
    apply_if_changed(duckdb)
    on_duckdb = join_features(feature_store(duckdb), impressions, "ranker_v1")
    features = service_features(store, "ranker_v1")
    assert on_postgres[features].notna().to_numpy().mean() > 0.5  # joined, not all empty
    pd.testing.assert_frame_equal(on_postgres, on_duckdb, check_exact=False, rtol=1e-6)

    entity = pd.DataFrame(
        {
            "user_id": impressions["user_id"].to_numpy(),
            "item_id": impressions["item_id"].to_numpy(),
            "event_timestamp": impressions["ts"].astype("datetime64[us, UTC]").to_numpy(),
            "_row": np.arange(len(impressions)),
        }
    )
    refs = [
        f"{view}:{name}"
        for view, schema in table_schemas(settings.feast).items()
        for name in feature_names(schema)
    ]  # every view's raw values: arrays, strings and booleans too
    pg_raw, duck_raw = (
        s.get_historical_features(entity_df=entity, features=refs).to_df().sort_values("_row")
        for s in (store, feature_store(duckdb))
    )
    differ = [
        (name, a, b)
        for name in (ref.split(":")[1] for ref in refs)
        for a, b in zip(pg_raw[name], duck_raw[name], strict=True)
        if not same_value(a, b)
    ]
    assert not differ, differ[:5]

    done = materialize_days(settings, FEATURE_DAYS)
    assert check_parity(settings, done.end)["user_engagement"] > 0  # online == PG offline
    keys = sorted(impressions["user_id"].unique())[:5]
    online = store.get_online_features(
        features=["user_engagement:user_clicks_7d"], entity_rows=[{"user_id": k} for k in keys]
    ).to_dict()
    assert any(not same_value(v, None) for v in online["user_clicks_7d"])


def test_postgres_offline_store_without_a_url_says_what_to_set(settings: Settings) -> None:
    settings.feast.offline_store = "postgres"
    with pytest.raises(PostgresOfflineSettingsError, match="ENGAGEFLOW_FEAST__OFFLINE_URI"):
        repo_config(settings)
    settings.feast.offline_uri = "sqlite:///features.db"
    with pytest.raises(PostgresOfflineSettingsError, match="PostgreSQL URL"):
        repo_config(settings)
