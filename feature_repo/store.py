"""The one way to get a FeatureStore: built from settings, for DAG tasks, CLI, training, serving.

Embedded profile: file registry and SQLite online store under `<data_dir>/feast/`. Production
profile (or `feast.online_store = "redis"`): Redis online; the registry is a SQL database
whenever `feast.registry_uri` is a URL (required in production). The offline store is DuckDB
over Parquet, or PostgreSQL when `feast.offline_store = "postgres"` (`feast.offline_uri`).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml  # PyYAML: Feast reads feature_store.yaml with it (a Feast dependency)
from feast import FeatureStore, RepoConfig

from engageflow.settings import Settings, get_settings
from feature_repo.compat import (
    KEEP_SERVING,
    SQL_REGISTRY_CACHE_TTL_SECONDS,
    quiet_file_registry_warning,
)

REPO_DIR = Path(__file__).resolve().parent
# Feast's local engine with a bulk online write (online_write.py); "local" is Feast's own.
BATCH_ENGINE = "feature_repo.online_write.BulkLocalComputeEngine"
COMMITTED_YAML = REPO_DIR / "feature_store.yaml"  # the embedded defaults, for the plain CLI
YAML_ENV = "FEAST_FS_YAML_FILE_PATH"  # Feast's own: the CLI reads this file instead
GENERATED_HEADER = (
    "# Written by engageflow from its settings (`engageflow feast`, `engageflow feast-env`);\n"
    "# edit the settings, not this file.\n"
)


class FeastSettingsError(ValueError):
    """The settings cannot describe a Feast store; the message says which setting to set."""


def uses_redis(settings: Settings) -> bool:
    return settings.profile == "production" or settings.feast.online_store == "redis"


def online_store_config(settings: Settings) -> dict[str, Any]:
    if uses_redis(settings):
        return {"type": "redis", "connection_string": settings.feast.redis_connection}
    return {"type": "sqlite", "path": str(settings.root / "feast" / "online.db")}


def registry_config(settings: Settings) -> dict[str, Any]:
    uri = settings.feast.registry_uri
    if uri is None and settings.profile == "production":
        raise FeastSettingsError(
            "the production profile keeps the Feast registry in PostgreSQL: set "
            "ENGAGEFLOW_FEAST__REGISTRY_URI=postgresql+psycopg://USER@HOST:5432/DB"
        )
    if uri and "://" in uri:
        ttl = SQL_REGISTRY_CACHE_TTL_SECONDS
        return {"registry_type": "sql", "path": uri, "cache_ttl_seconds": ttl, **KEEP_SERVING}
    path = Path(uri) if uri else settings.root / "feast" / "registry.db"
    return {"registry_type": "file", "path": str(path.expanduser().resolve()), **KEEP_SERVING}


def offline_store_config(settings: Settings) -> dict[str, Any]:
    if settings.feast.offline_store == "postgres":
        from feature_repo.offline_postgres import postgres_params

        return {"type": "postgres", **postgres_params(settings)}
    return {"type": "duckdb"}


def store_yaml(settings: Settings, offline_store: str | None = None) -> dict[str, Any]:
    """The feature_store.yaml content for these settings (what `repo_config` is built from)."""
    offline = {"type": offline_store} if offline_store else offline_store_config(settings)
    return {
        "project": settings.feast.project,
        "provider": "local",
        "registry": registry_config(settings),
        "offline_store": offline,
        "online_store": online_store_config(settings),
        "batch_engine": BATCH_ENGINE,
        "entity_key_serialization_version": 3,
    }


def repo_config(settings: Settings, offline_store: str | None = None) -> RepoConfig:
    """The configuration the `feast` CLI reads under `feast_env(settings)`.

    `offline_store="dask"` (Feast's file store) exists for the benchmark that compares them.
    """
    (settings.root / "feast").mkdir(parents=True, exist_ok=True)
    quiet_file_registry_warning()
    return RepoConfig(**store_yaml(settings, offline_store), repo_path=REPO_DIR)


def feature_store(settings: Settings) -> FeatureStore:
    """A FeatureStore on the settings' registry, offline store and online store."""
    return FeatureStore(repo_path=str(REPO_DIR), config=repo_config(settings))


def write_feast_yaml(settings: Settings) -> Path:
    """<data_dir>/feast/feature_store.yaml from the settings, readable by its owner only (a
    PostgreSQL offline store's URL may hold a password)."""
    path = settings.root / "feast" / "feature_store.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = GENERATED_HEADER + yaml.safe_dump(store_yaml(settings), sort_keys=False)
    temp = path.with_name(f".{path.name}.{os.getpid()}")
    temp.write_text(text)
    temp.chmod(0o600)
    temp.replace(path)
    return path


def feast_env(settings: Settings) -> dict[str, str]:
    """Env vars for the `feast` CLI on these settings: Feast's own FEAST_FS_YAML_FILE_PATH at a
    feature_store.yaml written from them, and what `repo.py` rebuilds the definitions from."""
    return {
        YAML_ENV: str(write_feast_yaml(settings)),
        # repo.py rebuilds the definitions from these: the same paths, windows and sizes.
        "ENGAGEFLOW_DATA_DIR": str(settings.root),
        "ENGAGEFLOW_FEAST": settings.feast.model_dump_json(),
    }


def committed_yaml() -> dict[str, Any]:
    """feature_repo/feature_store.yaml as Feast reads it, relative paths against feature_repo/."""
    config = yaml.safe_load(COMMITTED_YAML.read_text())
    for section in ("registry", "online_store"):
        if isinstance(config.get(section), dict) and "path" in config[section]:
            config[section]["path"] = str((REPO_DIR / config[section]["path"]).resolve())
    return config


def cli_settings() -> Settings:
    """The settings `repo.py` declares the objects from when the `feast` CLI imports it.

    Under `engageflow feast ...` or `feast-env`: the caller's (FEAST_FS_YAML_FILE_PATH is set).
    Otherwise the plain CLI reads the committed feature_store.yaml, the embedded defaults: the
    settings are read as `engageflow` reads them from the repo root (Feast has moved into
    feature_repo/), and a FeastSettingsError says what to run when they need other stores.
    """
    if os.environ.get(YAML_ENV):
        return get_settings()
    with contextlib.chdir(REPO_DIR.parent):
        settings = get_settings()
        settings = settings.model_copy(update={"data_dir": settings.root})
    wanted, committed = store_yaml(settings), committed_yaml()
    if wanted != committed:
        differ = ", ".join(key for key in wanted if wanted[key] != committed.get(key))
        raise FeastSettingsError(
            f"these settings need other Feast stores ({differ}) than feature_repo/"
            "feature_store.yaml, which holds the embedded defaults: run `engageflow feast "
            'COMMAND` instead, or `eval "$(engageflow feast-env)"` before the plain feast CLI'
        )
    return settings


def run_feast(settings: Settings, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run the `feast` CLI on this repo with the settings' stores (`engageflow feast ...`)."""
    feast = Path(sys.executable).with_name("feast")
    chdir = [] if {"-c", "--chdir"} & set(args) else ["-c", str(REPO_DIR)]
    env = {**os.environ, **feast_env(settings)}
    return subprocess.run([str(feast), *chdir, *args], env=env, check=check)


def materialization_marks(store: FeatureStore) -> tuple:
    """Every online view's recorded materialization intervals (cached registry): they change on
    every materialize, a rerun of a window already written included."""
    views = [view for view in store.list_feature_views(allow_cache=True) if view.online]
    return tuple(sorted((view.name, tuple(view.materialization_intervals)) for view in views))


def materialized_through(store: FeatureStore) -> datetime | None:
    """The time through which every online feature view of the store's cached registry is
    materialized (refresh it first to see another process's); None while any has never been.

    The oldest end, not the newest: Feast records each view's interval once that view is
    written, so during a run the newest end moves before the other views are written.
    """
    views = [view for view in store.list_feature_views(allow_cache=True) if view.online]
    ends = [view.most_recent_end_time for view in views]
    if not ends or None in ends:
        return None
    # Feast keeps some intervals naive (UTC) and some aware; compare them as aware UTC.
    return min(e if e.tzinfo else e.replace(tzinfo=UTC) for e in ends)
