"""Feature store speed: PIT training-set retrieval (DuckDB vs Feast's file/dask store, 1M entity
rows), materialize of 100k entities to SQLite and Redis, online read p50/p99 for 1 and 100.

python -m benchmarks.features [--entity-rows 1000000] [--entities 100000] [--redis DSN]

Synthetic tables in the pipeline's real layout and schemas (features/<view>/date=D/), so the
numbers are for the real feature views at realistic sizes, not for a toy repo.
"""

from __future__ import annotations

import argparse
import contextlib
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial

import numpy as np
import pandas as pd
import pyarrow as pa
import redis
from feast import FeatureStore, RepoConfig

from benchmarks.report import load_average, write_results
from engageflow import lake
from engageflow.lake import day_bounds
from engageflow.settings import Settings
from feature_repo.apply import apply_if_changed
from feature_repo.sources import AREA
from feature_repo.store import REPO_DIR, feature_store, repo_config, store_yaml
from feature_repo.tables import (
    ITEM_ENGAGEMENT,
    USER_ENGAGEMENT,
    USER_TOPIC_AFFINITY,
    VIEWS,
    feature_names,
    table_schemas,
)

DAYS = [date(2026, 1, 1) + timedelta(days=n) for n in range(3)]
UNKNOWN_SHARE = 0.05  # entity rows whose user has no feature row at all
TOPICS = 12


def write_tables(settings: Settings, users: int, items: int, rng: np.random.Generator) -> None:
    """Random but well-typed tables for every view and day (empty for views not measured)."""
    schemas = table_schemas(settings.feast)
    sizes = {USER_ENGAGEMENT: users, ITEM_ENGAGEMENT: items, USER_TOPIC_AFFINITY: users}
    for view in VIEWS:
        schema, rows = schemas[view], sizes.get(view, 0)
        for day in DAYS:
            columns = [
                pa.array([f"{view[0]}{n:07d}" for n in range(rows)], pa.string()),
                pa.array(np.full(rows, pd.Timestamp(day_bounds(day)[1])), schema.field(1).type),
            ]
            for field in list(schema)[2:]:
                columns.append(_random(field.type, rows, rng))
            table = pa.Table.from_arrays(columns, schema=schema)
            lake.write_partition(table, settings.root, AREA, view, day)


def _random(kind: pa.DataType, rows: int, rng: np.random.Generator) -> pa.Array:
    if kind == pa.int64():
        return pa.array(rng.integers(0, 100, rows))
    if kind == pa.float32():
        return pa.array(rng.random(rows, dtype="float32"))
    if kind == pa.bool_():
        return pa.array(rng.random(rows) < 0.1)
    if pa.types.is_list(kind):
        flat = pa.array(rng.random(rows * TOPICS, dtype="float32"))
        return pa.ListArray.from_arrays(pa.array(np.arange(rows + 1) * TOPICS, pa.int32()), flat)
    return pa.array([f"s{n % 97}" for n in range(rows)])


def entity_rows(n: int, users: int, items: int, rng: np.random.Generator) -> pd.DataFrame:
    """Training examples: (user, item, time) over the days; a share with unknown users."""
    user_ids = rng.integers(0, users, n)
    unknown = rng.random(n) < UNKNOWN_SHARE
    start = pd.Timestamp(day_bounds(DAYS[0])[1])
    seconds = rng.integers(0, len(DAYS) * 86_400, n)
    return pd.DataFrame(
        {
            "user_id": np.where(unknown, "nobody", [f"u{u:07d}" for u in user_ids]),
            "item_id": [f"i{i:07d}" for i in rng.integers(0, items, n)],
            "event_timestamp": (start + pd.to_timedelta(seconds, unit="s")).astype(
                "datetime64[us, UTC]"
            ),
        }
    )


def _refs(settings: Settings, *views: str) -> list[str]:
    schemas = table_schemas(settings.feast)
    return [f"{view}:{name}" for view in views for name in feature_names(schemas[view])]


def retrieval(settings: Settings, entities: pd.DataFrame) -> list[list[object]]:
    """The same PIT join on DuckDB and on the file (dask) offline store, in this run."""
    refs = _refs(settings, USER_ENGAGEMENT, ITEM_ENGAGEMENT)
    dask = repo_config(settings, offline_store="dask")
    stores = {
        "duckdb": feature_store(settings),
        "file (dask)": FeatureStore(repo_path=str(REPO_DIR), config=dask),
    }
    seconds, rows, unknown = {}, {}, {}
    for name, store in stores.items():
        start = time.perf_counter()
        frame = store.get_historical_features(entity_df=entities, features=refs).to_df()
        seconds[name], rows[name] = time.perf_counter() - start, len(frame)
        unknown[name] = int((frame["user_id"] == "nobody").sum())
    base = seconds["duckdb"]
    asked = int((entities["user_id"] == "nobody").sum())
    return [
        [
            f"PIT retrieval, {len(entities):,} entity rows x {len(refs)} features",
            name,
            f"{seconds[name]:.1f} s",
            f"{rows[name]:,} rows out ({len(entities) - rows[name]:,} dropped; "
            f"{unknown[name]:,} of {asked:,} unknown-user rows kept)",
            f"{seconds[name] / base:.1f}x DuckDB",
        ]
        for name in stores
    ]


def online(
    settings: Settings, label: str, users: int, rng: np.random.Generator, wipe: Callable[[], None]
) -> list[list]:
    """Materialize 100k users (scalar view, then the array view) with Feast's own local engine,
    then, on an emptied online store, with the repo's (bulk write); then time online reads."""
    store = feature_store(settings)
    config = RepoConfig(**{**store_yaml(settings), "batch_engine": "local"}, repo_path=REPO_DIR)
    engines = {"Feast's local engine": FeatureStore(repo_path=str(REPO_DIR), config=config)}
    engines["bulk write (repo default)"] = store
    end = day_bounds(DAYS[-1])[1]
    before = day_bounds(DAYS[0])[0] - timedelta(days=1)
    for warm in engines.values():  # an empty window: first-use imports are not timed
        warm.materialize(start_date=before, end_date=before, feature_views=[USER_ENGAGEMENT])
    out = []
    for view in (USER_ENGAGEMENT, USER_TOPIC_AFFINITY):
        width = len(_refs(settings, view))
        seconds = {}
        for engine, materializer in engines.items():
            wipe()
            start = time.perf_counter()
            materializer.materialize(start_date=end, end_date=end, feature_views=[view])
            seconds[engine] = time.perf_counter() - start
            what = f"materialize {users:,} users, {view} ({width} value(s) per user), {engine}"
            ratio = seconds[next(iter(engines))] / seconds[engine]
            out.append(
                [
                    what,
                    label,
                    f"{seconds[engine]:.1f} s",
                    f"{users / seconds[engine]:,.0f} entities/s",
                    f"{ratio:.1f}x Feast's engine",
                ]
            )
    # The wipes emptied the entity rows the reads want (Redis keeps both user views in one hash).
    store.materialize(start_date=end, end_date=end, feature_views=[USER_ENGAGEMENT])
    refs = _refs(settings, USER_ENGAGEMENT)
    for count in (1, 100):
        times = []
        for repeat in range(220):
            keys = [{"user_id": f"u{u:07d}"} for u in rng.integers(0, users, count)]
            start = time.perf_counter()
            store.get_online_features(features=refs, entity_rows=keys).to_dict()
            if repeat >= 20:  # warm-up
                times.append((time.perf_counter() - start) * 1000)
        p50, p99 = statistics.median(times), float(np.percentile(times, 99))
        what = f"online read, {count} user(s) x {len(refs)} features"
        out.append([what, label, f"p50 {p50:.2f} ms", f"p99 {p99:.2f} ms", ""])
    return out


def _wipe_sqlite(settings: Settings) -> None:
    """Empty every online table and give the pages back, so each materialize writes into a
    store as new as the first one's (reused free pages would be journaled first)."""
    path = settings.root / "feast" / "online.db"
    with contextlib.closing(sqlite3.connect(path)) as conn:
        with conn:
            for view in VIEWS:
                conn.execute(f'DELETE FROM "{settings.feast.project}_{view}"')
        conn.execute("VACUUM")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entity-rows", type=int, default=1_000_000)
    parser.add_argument("--entities", type=int, default=100_000, help="users materialized")
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--redis", default="127.0.0.1:6379,db=14", help="a db it may flush")
    args = parser.parse_args()
    started = load_average()
    rng = np.random.default_rng(7)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=tmp)
        write_tables(settings, args.entities, args.items, rng)
        apply_if_changed(settings)
        entities = entity_rows(args.entity_rows, args.entities, args.items, rng)
        rows += retrieval(settings, entities)
        rows += online(settings, "sqlite", args.entities, rng, partial(_wipe_sqlite, settings))
        on_redis = Settings(
            data_dir=tmp, feast={"online_store": "redis", "redis_connection": args.redis}
        )
        host, port_db = args.redis.split(":", 1)
        port, db = port_db.split(",db=")
        client = redis.Redis(host=host, port=int(port), db=int(db))
        client.flushdb()
        try:
            rows += online(on_redis, "redis", args.entities, rng, client.flushdb)
        finally:
            client.flushdb()
    command = (
        f"python -m benchmarks.features --entity-rows {args.entity_rows} "
        f"--entities {args.entities} --items {args.items}"
    )
    path = write_results(
        "features",
        "Feature store: offline retrieval, materialize, online reads",
        command,
        ["measure", "store", "time", "result", "ratio"],
        rows,
        notes=f"""
Tables have the real schemas of `feature_repo/tables.py` ({len(DAYS)} daily partitions each);
{UNKNOWN_SHARE:.0%} of the entity rows name a user without any feature row. DuckDB keeps every
row (null features where nothing matched); Feast's file (dask) store silently drops some of the
unmatched rows (the counts above), so a training set built on it loses examples without a word.
Materialize goes from the offline store (DuckDB) into an emptied online store (after a warm-up
on an empty window), first with Feast's own local engine, then with the repo's
(`feature_repo/online_write.py`: Feast's engine whose last step writes the same bytes in bulk).
Feast's own cost grows with the number of feature values, hence the array view (one
Array(Float32) of {TOPICS}) beside the scalar one. Online reads go
through `FeatureStore.get_online_features` in one process (no HTTP).
""",
        load_before=started,
    )
    print(path.read_text())


if __name__ == "__main__":
    main()
