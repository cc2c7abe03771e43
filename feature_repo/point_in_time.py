"""Point-in-time joins as DuckDB ASOF joins, planned from the Feast registry's own definitions.

Why not Feast's `get_historical_features` here: for 1M impressions and `ranker_v2` it took
165 s, one raw DuckDB statement over the same Parquet 22 s (docs/benchmarks/pit_join.md).
Most of it is Feast 0.67 running each Python-mode on-demand view on `to_pydict()` of the whole
joined table (every column of every row as Python objects: ~75% in a profile), the rest its
ibis SQL (each view range-joined on a string row id, then deduplicated with a window). Neither
is a setting of Feast's API, and a pandas-mode view would still convert the whole table.

The plan is read from the registry (the FeatureService's projections, each view's FileSource,
timestamp field, entity key and TTL, the on-demand views' inputs), so the Feast definitions stay
the single source of truth. The rule is Feast's: for each view, the newest row whose timestamp
is at or before the entity row's, unless older than the view's TTL. On-demand views run
vectorised (`on_demand.VECTORISED`), or Feast's own function on just their inputs. Whatever
the plan cannot express exactly (another source or store, field mappings, created timestamps,
composite keys, non-scalar features) goes through Feast. Tests prove both give the same values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from feature_repo.on_demand import Gathered, vectorised

ROW, TS = "_row", "_ts"


@dataclass(frozen=True)
class ViewRead:
    """The columns to read from one feature view, and how its rows match an entity row."""

    name: str
    key: str
    path: str  # the FileSource's path, read as Feast's DuckDB store reads it
    timestamp: str
    ttl: timedelta | None
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    reads: tuple[ViewRead, ...]
    on_demand: tuple  # the service's OnDemandFeatureViews
    features: tuple[str, ...]  # the service's feature names, in order


def plan(store, service) -> Plan | None:
    """How to join `service` with ASOF joins; None when the plan cannot match Feast exactly."""
    from feast.infra.offline_stores.file_source import FileSource

    if store.config.offline_store.type != "duckdb":
        return None
    wanted: dict[str, dict[str, None]] = {}  # view -> columns (ordered set)
    odfvs = {view.name: view for view in store.list_on_demand_feature_views(allow_cache=True)}
    on_demand = []
    for projection in service.feature_view_projections:
        if projection.join_key_map or projection.name_alias:
            return None
        if projection.name in odfvs:
            view = odfvs[projection.name]
            on_demand.append(view)
            for source in view.source_feature_view_projections.values():
                wanted.setdefault(source.name, {}).update(dict.fromkeys(_names(source)))
        else:
            wanted.setdefault(projection.name, {}).update(dict.fromkeys(_names(projection)))
    reads = []
    for name, columns in wanted.items():
        view = store.get_feature_view(name)
        source = view.batch_source
        keys = [column.name for column in view.entity_columns]
        plain = isinstance(source, FileSource) and not source.field_mapping
        if len(keys) != 1 or not plain or source.created_timestamp_column:
            return None
        ttl = view.ttl or None  # Feast: a zero TTL never expires
        reads.append(
            ViewRead(name, keys[0], source.path, source.timestamp_field, ttl, tuple(columns))
        )
    services = _names_of(service)
    inputs = [name for read in reads for name in read.columns]
    if len(set(inputs)) != len(inputs) or not _scalar_outputs(store, service, on_demand):
        return None
    return Plan(tuple(reads), tuple(on_demand), tuple(services))


def _names(projection) -> list[str]:
    return [feature.name for feature in projection.features]


def _names_of(service) -> list[str]:
    return [name for projection in service.feature_view_projections for name in _names(projection)]


def _is_scalar(dtype) -> bool:
    from feast.types import Bool, Float32, Float64, Int32, Int64

    return dtype in (Bool, Float32, Float64, Int32, Int64)


def _scalar_outputs(store, service, on_demand) -> bool:
    """Every service feature is a number or a flag (the frame holds them as float32)."""
    odfv_names = {view.name for view in on_demand}
    for projection in service.feature_view_projections:
        if projection.name in odfv_names:
            continue
        if not all(_is_scalar(feature.dtype) for feature in projection.features):
            return False
    return all(_is_scalar(f.dtype) for view in on_demand for f in view.features)


def join(plan: Plan, entity: pd.DataFrame) -> np.ndarray:
    """The service's features for each row of `entity` (Feast's entity frame: join keys,
    `event_timestamp`, request fields) as one float32 matrix in `plan.features` order."""
    ts = _timestamps(entity["event_timestamp"])
    keys = sorted({read.key for read in plan.reads})
    con = duckdb.connect()
    # Key columns by position (k0, k1, ...): SQL names of ours, whatever the join keys are called.
    rows = {ROW: np.arange(len(entity)), TS: ts}
    rows |= {f"k{n}": entity[key].to_numpy() for n, key in enumerate(keys)}
    con.register("entity_rows", pa.table(rows))
    tables = [_read(con, read) for read in plan.reads]
    for i, (read, table) in enumerate(zip(plan.reads, tables, strict=True)):
        index = np.arange(len(table))
        con.register(f"v{i}", pa.table({"k": table[read.key], "t": table[TS], "i": index}))
    picks = [f"i{i}" for i in range(len(plan.reads))]
    back = " ".join(
        f"LEFT JOIN by{n} ON e.k{n} = by{n}.k{n} AND e.{TS} = by{n}.{TS}" for n in range(len(keys))
    )
    # DuckDB's joins keep no row order: sort the (narrow) picks back into the entity's.
    picked = con.sql(
        f"WITH {', '.join(_matches(plan, key, n) for n, key in enumerate(keys))} "
        f"SELECT {', '.join(picks)} FROM entity_rows e {back} ORDER BY e.{ROW}"
    ).to_arrow_table()
    con.close()
    inputs = {
        f.name
        for view in plan.on_demand
        for source in view.source_feature_view_projections.values()
        for f in source.features
    }
    out = np.empty((len(entity), len(plan.features)), dtype=np.float32, order="F")
    where = {name: j for j, name in enumerate(plan.features)}
    columns: dict[str, object] = {}  # on-demand inputs
    for i, (read, table) in enumerate(zip(plan.reads, tables, strict=True)):
        rows = pc.fill_null(picked[f"i{i}"], -1).to_numpy()  # -1: no row
        for name in read.columns:
            if name in where:
                _gather(table[name], rows, out[:, where[name]])
            if name in inputs:
                columns[name] = Gathered(table[name], rows)
    for view in plan.on_demand:
        for source in view.source_request_sources.values():
            columns.update({f.name: _timestamps(entity[f.name]) for f in source.schema})
        for name, values in vectorised(view, columns).items():
            out[:, where[name]] = _floats(values)
    return out


def _matches(plan: Plan, key: str, n: int) -> str:
    """A CTE `by<n>`: each distinct (key, time) of the entity rows (`key` is column k<n>), with
    the index of its row in each view keyed by it (NULL: none at or before, within the TTL)."""
    joins, picks = [], []
    for i, read in enumerate(plan.reads):
        if read.key != key:
            continue
        joins.append(f"ASOF LEFT JOIN v{i} ON d.k{n} = v{i}.k AND d.{TS} >= v{i}.t")
        fresh = f" AND v{i}.t + to_microseconds({_micros(read.ttl)}) >= d.{TS}" if read.ttl else ""
        picks.append(f"CASE WHEN v{i}.i IS NOT NULL{fresh} THEN v{i}.i END AS i{i}")
    distinct = f"(SELECT DISTINCT k{n}, {TS} FROM entity_rows) d"
    picked = ", ".join(picks)
    return f"by{n} AS (SELECT d.k{n}, d.{TS}, {picked} FROM {distinct} {' '.join(joins)})"


def _read(con: duckdb.DuckDBPyConnection, read: ViewRead) -> pa.Table:
    """A view's rows: its key, timestamp and the columns the service reads, as Arrow."""
    columns = ", ".join(map(_q, read.columns))
    return con.sql(
        f"SELECT {_q(read.key)}, {_q(read.timestamp)}::TIMESTAMPTZ AS {TS}, {columns} "
        f"FROM read_parquet('{_literal(read.path)}')"  # as Feast's ibis.read_parquet(path)
    ).to_arrow_table()


def _gather(column: pa.ChunkedArray, rows: np.ndarray, out: np.ndarray) -> None:
    """`column` at `rows` (-1: NaN) into `out`, as float32 via float64 (as pandas converts)."""
    small = np.append(_floats(column), np.nan).astype(np.float32)
    np.take(small, rows, out=out)  # index -1 takes the NaN at the end


def _timestamps(values: pd.Series) -> pa.Array:
    """Times as Arrow timestamp[us, UTC]; naive ones are UTC, as Feast reads them."""
    index = pd.DatetimeIndex(values)
    index = index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")
    return pa.array(index.as_unit("us"))


def _floats(column) -> np.ndarray:
    """A column as pandas' `to_numeric(...).astype("float32")` reads it: via float64, NaN for
    null."""
    if isinstance(column, np.ndarray):
        return column.astype(np.float64, copy=False)
    if pa.types.is_boolean(column.type) or pa.types.is_integer(column.type):
        column = pc.cast(column, pa.float64())
    return column.to_numpy().astype(np.float64, copy=False)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return text.replace("'", "''")


def _micros(ttl: timedelta) -> int:
    return ttl // timedelta(microseconds=1)
