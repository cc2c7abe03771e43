"""The bulk online write (feature_repo/online_write.py) leaves SQLite and Redis exactly as Feast's
own local engine does: the same stored bytes, the same online reads, the same registry intervals.

Hand-made tables hold the edge values: nulls, NaN, -0.0, infinities, negative and large ints,
quoted and non-ASCII strings, lists; an older range materialized after a newer one shows each
store's overwrite rule (SQLite takes it, Redis keeps the newer stamp).
"""

from __future__ import annotations

import math
import sqlite3
from datetime import date

import pyarrow as pa
import pytest
import redis
from feast import FeatureStore, RepoConfig

from engageflow import lake
from engageflow.lake import day_bounds
from engageflow.settings import Settings
from feature_repo import online_write
from feature_repo.apply import apply_if_changed
from feature_repo.sources import AREA
from feature_repo.store import BATCH_ENGINE, REPO_DIR, materialized_through, store_yaml
from feature_repo.tables import KEY, VIEWS, feature_names, table_schemas

DAYS = [date(2026, 1, 1), date(2026, 1, 2)]
KEYS = 23  # two full SQLite statements of 10 entities and a tail of 3 (or 2, on day 2)
EDGE = {
    pa.int64(): [0, -1, 2**40, None, 7],
    pa.float32(): [0.0, -0.0, float("nan"), None, math.inf],
    pa.bool_(): [True, False, None, True, False],
    pa.string(): ["a", "it's é", "", None, "b"],
    pa.list_(pa.float32()): [[0.5, 1.5], [0.25], None, [1.0, -2.0, 3.5], [0.0]],
}


def write_edge_tables(settings: Settings) -> None:
    """Every view, both days; day 2 rotates the values and drops the last key."""
    for view, schema in table_schemas(settings.feast).items():
        for shift, day in enumerate(DAYS):
            rows = KEYS - shift
            stamp = day_bounds(day)[1]
            columns = [
                pa.array([f"{KEY[view][0]}{n}" for n in range(rows)], pa.string()),
                pa.array([stamp] * rows, schema.field(1).type),
            ]
            for number, field in enumerate(list(schema)[2:]):
                edge = EDGE[field.type]
                values = [edge[(n + number + shift) % len(edge)] for n in range(rows)]
                columns.append(pa.array(values, field.type))
            lake.write_partition(
                pa.Table.from_arrays(columns, schema=schema), settings.root, AREA, view, day
            )


def materialized(settings: Settings, engine: str) -> FeatureStore:
    """A store on `settings` with the given batch engine, after the newer day then the older."""
    config = RepoConfig(**{**store_yaml(settings), "batch_engine": engine}, repo_path=REPO_DIR)
    assert apply_if_changed(settings)
    store = FeatureStore(repo_path=str(REPO_DIR), config=config)
    store.materialize(start_date=day_bounds(DAYS[1])[0], end_date=day_bounds(DAYS[1])[1])
    store.materialize(start_date=day_bounds(DAYS[0])[0], end_date=day_bounds(DAYS[0])[1])
    return store


@pytest.fixture(params=["sqlite", "redis"])
def pair(request, tmp_path, settings: Settings) -> tuple[Settings, Settings]:
    """(bulk, Feast's own) settings on separate data dirs holding the same tables; on Redis the
    reference store is another Feast project in the same database (the key holds the project)."""
    bulk = settings
    feast = settings.model_copy(deep=True, update={"data_dir": tmp_path / "reference"})
    if request.param == "redis":
        connection = request.getfixturevalue("redis_db")
        for one in (bulk, feast):
            one.feast.online_store, one.feast.redis_connection = "redis", connection
        feast.feast.project = "engageflow_reference"
    for one in (bulk, feast):
        write_edge_tables(one)
    return bulk, feast


def online(settings: Settings, store: FeatureStore) -> dict[str, dict[str, list]]:
    """Every feature of every view, for every key written and one never written."""
    schemas = table_schemas(settings.feast)
    out = {}
    for view in VIEWS:
        refs = [f"{view}:{name}" for name in feature_names(schemas[view])]
        keys = [{KEY[view]: f"{KEY[view][0]}{n}"} for n in range(KEYS + 1)]
        out[view] = store.get_online_features(features=refs, entity_rows=keys).to_dict()
    return out


def stored(settings: Settings, store: FeatureStore) -> dict:
    """The online store's raw content, keyed without the Feast project."""
    project = settings.feast.project
    if settings.feast.online_store == "redis":
        host_port, db = settings.feast.redis_connection.split(",db=")
        client = redis.Redis(host=host_port.split(":")[0], port=6379, db=int(db))
        suffix = project.encode()
        return {
            key[: -len(suffix)]: client.hgetall(key)
            for key in client.scan_iter()
            if key.endswith(suffix)
        }
    with sqlite3.connect(store.config.online_store.path) as conn:
        return {
            view: conn.execute(
                "SELECT entity_key, feature_name, value, value_text, event_ts, created_ts "
                f'FROM "{project}_{view}" ORDER BY entity_key, feature_name'
            ).fetchall()
            for view in VIEWS
        }


def intervals(store: FeatureStore) -> dict[str, list]:
    store.refresh_registry()
    return {
        view.name: [(i[0], i[1]) for i in view.materialization_intervals]
        for view in store.list_feature_views()
    }


def test_bulk_write_leaves_the_store_as_feasts_own_engine(
    pair: tuple[Settings, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    bulk, feast = pair
    # Chunks of 10 entities, so the writes cross chunk boundaries as 100k entities do.
    monkeypatch.setattr(online_write, "SQLITE_CHUNK", 10)
    monkeypatch.setattr(online_write, "REDIS_CHUNK", 10)
    ours, theirs = materialized(bulk, BATCH_ENGINE), materialized(feast, "local")
    assert type(ours._get_provider().batch_engine).__name__ == "BulkLocalComputeEngine"
    assert type(theirs._get_provider().batch_engine).__name__ == "LocalComputeEngine"

    assert stored(bulk, ours) == stored(feast, theirs)
    assert sum(len(rows) for rows in stored(bulk, ours).values()) > 0
    read = online(bulk, ours)
    assert read == online(feast, theirs)
    # The edge values came through by name: a null, the day-2 values, the key only day 1 had.
    engagement = read["user_engagement"]
    assert engagement["user_id"][:2] == ["u0", "u1"]
    assert None in engagement["user_clicks_7d"] and -1 in engagement["user_clicks_7d"]
    assert engagement["user_ctr_7d"][KEYS] is None  # never written
    assert {"it's é", ""} & set(read["item_profile"]["creator_id"])
    assert read["user_topic_affinity"]["topic_affinity"][0] is not None

    assert intervals(ours) == intervals(theirs)
    assert all(len(spans) == 2 for spans in intervals(ours).values())
    assert materialized_through(ours) == materialized_through(theirs) == day_bounds(DAYS[1])[1]
