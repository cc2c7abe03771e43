"""The PostgreSQL offline store: each day's feature tables copied into one table per view.

The Parquet partitions stay the source of truth; with `feast.offline_store = "postgres"` the
build also loads the day into `<project>_<view>` tables (Feast's PostgreSQLSource reads them).
A day is replaced whole in one transaction: delete its rows (all stamped day + 1), then COPY.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg
import pyarrow as pa
from psycopg import sql
from sqlalchemy.engine import make_url

from engageflow.lake import day_bounds
from engageflow.schema import UTC_TS
from engageflow.settings import Settings
from feature_repo.tables import KEY, TIMESTAMP, VIEWS

SCHEMA = "public"
PG_TYPES: dict[pa.DataType, str] = {
    pa.string(): "text",
    pa.int64(): "bigint",
    pa.float32(): "real",
    pa.bool_(): "boolean",
    UTC_TS: "timestamptz",
}


class PostgresOfflineSettingsError(ValueError):
    """The settings name the PostgreSQL offline store without a usable URL."""


def postgres_params(settings: Settings) -> dict[str, Any]:
    """Feast's PostgreSQL connection keys from `feast.offline_uri` (a SQLAlchemy URL)."""
    uri = settings.feast.offline_uri
    if not uri:
        raise PostgresOfflineSettingsError(
            'feast.offline_store = "postgres" needs the database: set '
            "ENGAGEFLOW_FEAST__OFFLINE_URI=postgresql+psycopg://USER@HOST:5432/DB"
        )
    url = make_url(uri)
    if not url.drivername.startswith("postgresql") or not (url.host and url.database):
        raise PostgresOfflineSettingsError(
            f"feast.offline_uri must be a PostgreSQL URL with host and database, like "
            f"postgresql+psycopg://USER@HOST:5432/DB; got {url.render_as_string()}"
        )
    return {
        "host": url.host,
        "port": url.port or 5432,
        "database": url.database,
        "db_schema": SCHEMA,
        "user": url.username or "postgres",
        "password": url.password or "",
        # Feast defaults to "require"; libpq's own default suits a local server too.
        "sslmode": str(url.query.get("sslmode", "prefer")),
    }


def table_name(settings: Settings, view: str) -> str:
    """The view's table: prefixed by the Feast project, like the online store's tables."""
    return f"{settings.feast.project}_{view}"


def connect(settings: Settings) -> psycopg.Connection:
    params = postgres_params(settings)
    return psycopg.connect(
        host=params["host"],
        port=params["port"],
        dbname=params["database"],
        user=params["user"],
        password=params["password"],
        sslmode=params["sslmode"],
    )


def pg_type(arrow: pa.DataType) -> str:
    """The column type for an Arrow type of the feature tables (lists become arrays)."""
    if pa.types.is_list(arrow):
        return pg_type(arrow.value_type) + "[]"
    return PG_TYPES[arrow]


def create_statements(name: str, schema: pa.Schema, key: str) -> list[sql.Composed]:
    """CREATE TABLE and its PIT-join index (entity key, timestamp), both if not there yet."""
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(f.name), sql.SQL(pg_type(f.type))) for f in schema
    )
    table = sql.Identifier(SCHEMA, name)
    return [
        sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(table, columns),
        sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} ({}, {})").format(
            sql.Identifier(f"{name}_key_ts"), table, sql.Identifier(key), sql.Identifier(TIMESTAMP)
        ),
    ]


def load_day(settings: Settings, day: date, tables: dict[str, pa.Table]) -> dict[str, int]:
    """Replace `day`'s rows of every view with `tables`, in one transaction; rows per view."""
    stamp = day_bounds(day)[1]
    loaded = {}
    with connect(settings) as conn, conn.transaction(), conn.cursor() as cur:
        for view in VIEWS:
            table, name = tables[view], table_name(settings, view)
            for statement in create_statements(name, table.schema, KEY[view]):
                cur.execute(statement)
            target = sql.Identifier(SCHEMA, name)
            cur.execute(
                sql.SQL("DELETE FROM {} WHERE {} = %s").format(target, sql.Identifier(TIMESTAMP)),
                (stamp,),
            )
            loaded[view] = copy_rows(cur, target, table)
    return loaded


def copy_rows(cur: psycopg.Cursor, target: sql.Composable, table: pa.Table) -> int:
    """COPY the Arrow table's rows into `target` (columns by name)."""
    names = sql.SQL(", ").join(sql.Identifier(n) for n in table.column_names)
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(target, names)
    columns = [table.column(n).to_pylist() for n in table.column_names]
    with cur.copy(statement) as copy:
        for row in zip(*columns, strict=True):
            copy.write_row(row)
    return table.num_rows


def row_counts(settings: Settings) -> dict[str, int]:
    """Rows per view table in the offline database (for checks and tests)."""
    with connect(settings) as conn:
        return {
            view: conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(
                    sql.Identifier(SCHEMA, table_name(settings, view))
                )
            ).fetchone()[0]
            for view in VIEWS
        }
