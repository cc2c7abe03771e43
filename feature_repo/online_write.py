"""Feast's local materialization engine with a bulk write into the SQLite and Redis online stores.

Why: Feast 0.67 builds a protobuf per feature value in Python, then executes one SQLite upsert
per value, or hashes each Redis field name per value: materializing 100k users x 19 features took
18 s (SQLite) and 11 s (Redis) here (docs/benchmarks/features.md, which times both engines).
What stays Feast's: `FeatureStore.materialize` and so the registry's materialization intervals
and view states; the engine's plan that reads, filters and dedups the offline rows; the online
tables, keys, hashes and statement; and the bytes of every value (online_encode.py). Only the
last step, the online write, is replaced, and only for SQLite without its optional columns and
single-node Redis; any other store or setting goes through Feast's own output node. Unlike Feast,
`materialization_config.online_write_batch_size` is not honoured: one transaction per view.
Selected by `batch_engine` in the store config (feature_repo/store.py); a test holds the stores
it leaves equal to those Feast's own engine leaves (tests/integration/test_bulk_materialize.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from itertools import chain

import numpy as np
import pyarrow as pa
from feast.infra.common.materialization_job import MaterializationJobStatus
from feast.infra.compute_engines.local.arrow_table_value import ArrowTableValue
from feast.infra.compute_engines.local.compute import LocalComputeEngine, LocalComputeEngineConfig
from feast.infra.compute_engines.local.feature_builder import LocalFeatureBuilder
from feast.infra.compute_engines.local.job import LocalMaterializationJob
from feast.infra.compute_engines.local.nodes import LocalOutputNode
from feast.infra.online_stores.helpers import _mmh3
from feast.infra.online_stores.redis import RedisOnlineStore, _versioned_fv_name
from feast.infra.online_stores.sqlite import (
    SqliteOnlineStore,
    _quote_id,
    _table_id,
    adapt_datetime_epoch,
)
from feast.utils import _validate_vector_field_lengths, make_tzaware, to_naive_utc
from feast.value_type import ValueType
from google.protobuf.timestamp_pb2 import Timestamp

from feature_repo.online_encode import encode_column, entity_keys, timestamps

REDIS_CHUNK = 10_000  # entities per script call: bounds the memory of one round trip
SQLITE_ENTITIES = 10  # entities per SQLite statement (more gained nothing measurable)
SQLITE_CHUNK = 10_000  # entities encoded at a time (a multiple of SQLITE_ENTITIES)


class _Batch:
    """The rows of one feature view, encoded once for whichever store writes them."""

    def __init__(self, table: pa.Table, view, join_keys: dict[str, ValueType], config) -> None:
        self.view, self.config = view, config
        self.names = [feature.name for feature in view.features]
        self.columns = [
            encode_column(table.column(f.name), f.dtype.to_value_type()) for f in view.features
        ]
        self.keys = entity_keys(table, join_keys, config.entity_key_serialization_version)
        source = view.batch_source
        self.event = table.column(source.timestamp_field)
        created = source.created_timestamp_column
        self.created = table.column(created) if created else None


def write_sqlite(
    store: SqliteOnlineStore, table: pa.Table, view, join_keys: dict[str, ValueType], config
) -> None:
    """Upsert every value in one transaction, with the statement and columns Feast uses."""
    conn = store._get_conn(config)
    name = _table_id(config.project, view, config.registry.enable_online_feature_view_versioning)
    # In key order: each insert lands beside the previous one in Feast's two indexes.
    keys = entity_keys(table, join_keys, config.entity_key_serialization_version)
    table = table.take(np.argsort(_objects(keys), kind="stable"))
    chunks = [table.slice(start, SQLITE_CHUNK) for start in range(0, len(table), SQLITE_CHUNK)]
    prepare = partial(_sqlite_params, view=view, join_keys=join_keys, config=config)
    names = [feature.name for feature in view.features]
    statement = _sqlite_upsert(name, names, SQLITE_ENTITIES)
    # Encoded a chunk at a time, which bounds the parameters held at once. (Encoding the next
    # chunk in a thread while SQLite inserts gained nothing measurable on the 2 shared cores.)
    with conn:
        for grouped, tail in map(prepare, chunks):
            conn.executemany(statement, grouped)
            if tail:
                conn.execute(
                    _sqlite_upsert(name, names, len(tail)), list(chain.from_iterable(tail))
                )


def _sqlite_params(table: pa.Table, view, join_keys, config) -> tuple[list[list], list[list]]:
    """Statement parameters, SQLITE_ENTITIES entities per list, and the rest (one per entity):
    each entity's key, stamps, then a value and a text per feature."""
    batch = _Batch(table, view, join_keys, config)

    def as_stored(stamp: datetime) -> int:
        return adapt_datetime_epoch(to_naive_utc(stamp))  # what sqlite3 stores for Feast

    events = timestamps(batch.event, as_stored)
    created = timestamps(batch.created, as_stored) if batch.created is not None else None
    # Built column-wise in NumPy (object cells: bytes stay bytes).
    grid = np.empty((len(batch.keys), 3 + 2 * len(batch.columns)), dtype=object)
    grid[:, 0], grid[:, 1], grid[:, 2] = _objects(batch.keys), _objects(events), created
    for at, column in enumerate(batch.columns):
        grid[:, 3 + 2 * at], grid[:, 4 + 2 * at] = _objects(column.values), _objects(column.texts)
    whole = len(grid) // SQLITE_ENTITIES * SQLITE_ENTITIES
    grouped = grid[:whole].reshape(whole // SQLITE_ENTITIES, grid.shape[1] * SQLITE_ENTITIES)
    return grouped.tolist(), grid[whole:].tolist()


def _objects(cells: list) -> np.ndarray:
    # dtype=object keeps each bytes value whole (a bytes dtype would drop trailing NULs).
    out = np.empty(len(cells), dtype=object)
    out[:] = cells
    return out


def _sqlite_upsert(table: str, names: list[str], entities: int) -> str:
    """Feast's upsert (SqliteOnlineStore.online_write_batch without its optional columns) for
    `entities` entities at once: each binds its key, stamps, and a value and text per feature,
    and SQLite spreads them into a row per feature. Binding a row per value from Python took
    ~2.5x as long as the whole insert."""
    width = 3 + 2 * len(names)
    rows = [
        f"(?{b + 1}, {_literal(name)}, ?{b + 4 + 2 * n}, ?{b + 5 + 2 * n}, ?{b + 2}, ?{b + 3})"
        for b in range(0, entities * width, width)
        for n, name in enumerate(names)
    ]
    return (
        f"INSERT INTO {_quote_id(table)} (entity_key, feature_name, value, value_text, "
        f"event_ts, created_ts) SELECT * FROM (VALUES {', '.join(rows)}) "
        "WHERE true "  # SQLite needs a WHERE to parse the ON CONFLICT of an INSERT ... SELECT
        "ON CONFLICT(entity_key, feature_name) DO UPDATE SET value = excluded.value, "
        "value_text = excluded.value_text, event_ts = excluded.event_ts, "
        "created_ts = excluded.created_ts;"
    )


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# One script call per chunk instead of one command per entity: redis-py spent more time packing
# and parsing 100k commands and replies than Redis spent on them. KEYS are the entities' hashes.
_READ = """
local r = {}
for i, key in ipairs(KEYS) do r[i] = redis.call('HGET', key, ARGV[1]) end
return r
"""
# ARGV: n, the n field names (timestamp field first), then n values per key, in KEYS' order.
_WRITE = """
local n = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  local args = {}
  for j = 1, n do
    args[2 * j - 1] = ARGV[1 + j]
    args[2 * j] = ARGV[1 + n * i + j]
  end
  redis.call('HSET', key, unpack(args))
end
return #KEYS
"""


def write_redis(
    store: RedisOnlineStore, table: pa.Table, view, join_keys: dict[str, ValueType], config
) -> None:
    """One hash per entity in Feast's layout; like Feast, an entity whose stored event time is
    as new or newer keeps its values (unless the store is configured with `skip_dedup`)."""
    batch = _Batch(table, view, join_keys, config)
    settings = config.online_store
    client = store._get_client(settings)
    view_name = _versioned_fv_name(batch.view, config)
    ts_key = f"_ts:{view_name}"
    fields = [ts_key.encode(), *(_mmh3(f"{view_name}:{name}") for name in batch.names)]
    project = config.project.encode()
    redis_keys = [key + project for key in batch.keys]  # Feast's _redis_key, from the same bytes

    def as_stored(stamp: datetime) -> tuple[int, bytes]:
        proto = Timestamp()
        proto.FromDatetime(make_tzaware(stamp))
        return proto.seconds * 1_000_000_000 + proto.nanos, proto.SerializeToString()

    events = timestamps(batch.event, as_stored)
    rows = list(zip(*(c.values for c in batch.columns), strict=True))
    read, write = client.register_script(_READ), client.register_script(_WRITE)
    seen: dict[bytes, int] = {}
    for start in range(0, len(redis_keys), REDIS_CHUNK):
        chunk = range(start, min(start + REDIS_CHUNK, len(redis_keys)))
        if not settings.skip_dedup:
            stored = read(keys=[redis_keys[row] for row in chunk], args=[ts_key])
            seen.update(_nanos(redis_keys, chunk, stored))
        keys, values = [], []
        for row in chunk:
            key, (nanos, stamp) = redis_keys[row], events[row]
            if not settings.skip_dedup:
                if nanos <= seen.get(key, 0):
                    continue
                seen[key] = nanos  # a later row of the same entity must be newer still
            keys.append(key)
            values += (stamp, *rows[row])
        if keys:
            write(keys=keys, args=[len(fields), *fields, *values])
        if keys and settings.key_ttl_seconds:
            with client.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.expire(name=key, time=settings.key_ttl_seconds)
                pipe.execute()


def _nanos(keys: list[bytes], chunk: range, stored: list[bytes | None]) -> dict[bytes, int]:
    """{key: stored event time in ns} for the chunk's entities that have one."""
    known = {}
    for row, raw in zip(chunk, stored, strict=True):
        if raw:
            proto = Timestamp()
            proto.ParseFromString(raw)
            known[keys[row]] = proto.seconds * 1_000_000_000 + proto.nanos
    return known


class BulkOutputNode(LocalOutputNode):
    """Feast's output node, writing online in bulk where `_writer` knows the store."""

    def execute(self, context):
        view = self.feature_view
        writer = _writer(context.online_store, context.repo_config)
        table = self.get_single_table(context).data
        if writer is None or not view.online or table.num_rows == 0 or _is_odfv(view):
            return super().execute(context)
        _validate_vector_field_lengths(table, view)  # Feast checks this before converting
        join_keys = {e.name: e.dtype.to_value_type() for e in view.entity_columns}
        writer(context.online_store, table, view, join_keys, context.repo_config)
        output = ArrowTableValue(data=table)
        context.node_outputs[self.name] = output
        if view.offline:  # as Feast's node does after its online write
            context.offline_store.offline_write_batch(
                config=context.repo_config, feature_view=view, table=table, progress=lambda x: None
            )
        return output


def _is_odfv(view) -> bool:
    # Feast's own test for an on-demand view (utils._convert_arrow_to_proto).
    return (
        getattr(view, "source_request_sources", None) is not None
        or getattr(view, "source_feature_view_projections", None) is not None
    )


def _writer(online_store, config) -> Callable[..., None] | None:
    """The bulk writer for this store and configuration, or None to leave it to Feast."""
    settings = config.online_store
    if isinstance(online_store, SqliteOnlineStore):
        openai = getattr(settings, "enable_openai_compatible_store", False)
        extra = settings.vector_enabled or openai  # columns this writer does not fill
        return None if extra else write_sqlite
    if isinstance(online_store, RedisOnlineStore):
        # A cluster spreads the keys of one script call over nodes; Feast's pipeline copes.
        return write_redis if settings.redis_type == "redis" else None
    return None


class _BulkFeatureBuilder(LocalFeatureBuilder):
    def build_output_nodes(self, view, input_node):
        node = BulkOutputNode("output", self.dag_root.view, inputs=[input_node])
        self.nodes.append(node)
        return node


class BulkLocalComputeEngine(LocalComputeEngine):
    """Feast's local engine (read, filter, dedup: Feast's plan) with `BulkOutputNode` last."""

    def _materialize_one(self, registry, task, **kwargs) -> LocalMaterializationJob:
        # LocalComputeEngine._materialize_one with the builder swapped.
        job_id = f"{task.feature_view.name}-{task.start_time}-{task.end_time}"
        context = self.get_execution_context(registry, task)
        try:
            builder = _BulkFeatureBuilder(registry, task, backend=self._get_backend(context))
            builder.build().execute(context)
        except Exception as error:  # Feast's contract: the job carries the error
            return LocalMaterializationJob(job_id, MaterializationJobStatus.ERROR, error=error)
        return LocalMaterializationJob(job_id, MaterializationJobStatus.SUCCEEDED)


# Feast finds an engine's config class by the engine's name + "Config" (repo_config.py).
BulkLocalComputeEngineConfig = LocalComputeEngineConfig
