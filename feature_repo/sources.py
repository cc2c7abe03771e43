"""Where each feature view's offline rows live: the partition directory the pipeline writes.

`<data_dir>/features/<view>/date=YYYY-MM-DD/part-0.parquet`; DuckDB reads the whole directory,
which needs an absolute path and an explicit ParquetFormat (a directory has no file suffix).
With the PostgreSQL offline store, the same rows in `<project>_<view>` (offline_postgres.py).
"""

from __future__ import annotations

from pathlib import Path

from feast import FileSource, RequestSource
from feast.data_format import ParquetFormat
from feast.data_source import DataSource
from feast.field import Field
from feast.types import UnixTimestamp

from engageflow.settings import Settings
from feature_repo.tables import TIMESTAMP, VIEWS

AREA = "features"
REQUEST = "rank_request"


def feature_dir(settings: Settings, view: str) -> Path:
    """The absolute partition directory of one view's offline table."""
    return settings.root / AREA / view


def batch_sources(settings: Settings) -> dict[str, DataSource]:
    """One source per feature view, named `<view>_source`: Parquet files or a PostgreSQL table."""
    if settings.feast.offline_store == "postgres":
        return postgres_sources(settings)
    return {
        view: FileSource(
            name=f"{view}_source",
            path=str(feature_dir(settings, view)),
            file_format=ParquetFormat(),
            timestamp_field=TIMESTAMP,
            description=f"Daily partitions of {view}, written by the build_features DAG.",
        )
        for view in VIEWS
    }


def postgres_sources(settings: Settings) -> dict[str, DataSource]:
    from feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source import (
        PostgreSQLSource,
    )

    from feature_repo.offline_postgres import table_name

    return {
        view: PostgreSQLSource(
            name=f"{view}_source",
            table=table_name(settings, view),
            timestamp_field=TIMESTAMP,
            description=f"{view} in PostgreSQL, a day per build_features run.",
        )
        for view in VIEWS
    }


def request_source() -> RequestSource:
    """What a ranking request brings along: its time, for features like item age."""
    return RequestSource(name=REQUEST, schema=[Field(name="request_ts", dtype=UnixTimestamp)])
