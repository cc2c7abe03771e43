"""The one way to get a FeatureStore: built from settings, for DAG tasks, CLI, training, serving.

Embedded profile: file registry and SQLite online store under `<data_dir>/feast/`. Production
profile (or `feast.online_store = "redis"`): Redis online; the registry is a SQL database
whenever `feast.registry_uri` is a URL (required in production). The offline store is DuckDB
over Parquet, or PostgreSQL when `feast.offline_store = "postgres"` (`feast.offline_uri`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from feast import FeatureStore, RepoConfig

from engageflow.settings import Settings
from feature_repo.compat import (
    KEEP_SERVING,
    SQL_REGISTRY_CACHE_TTL_SECONDS,
    quiet_file_registry_warning,
)

REPO_DIR = Path(__file__).resolve().parent
ENV_PREFIX = "FEAST_ENGAGEFLOW_"


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


def repo_config(settings: Settings, offline_store: str | None = None) -> RepoConfig:
    """The same configuration `feature_store.yaml` expands to under `feast_env(settings)`.

    `offline_store="dask"` (Feast's file store) exists for the benchmark that compares them.
    """
    (settings.root / "feast").mkdir(parents=True, exist_ok=True)
    quiet_file_registry_warning()
    offline = {"type": offline_store} if offline_store else offline_store_config(settings)
    return RepoConfig(
        project=settings.feast.project,
        provider="local",
        registry=registry_config(settings),
        offline_store=offline,
        online_store=online_store_config(settings),
        entity_key_serialization_version=3,
        repo_path=REPO_DIR,
    )


def feature_store(settings: Settings) -> FeatureStore:
    """A FeatureStore on the settings' registry, offline store and online store."""
    return FeatureStore(repo_path=str(REPO_DIR), config=repo_config(settings))


def feast_env(settings: Settings) -> dict[str, str]:
    """Env vars that `feature_store.yaml` and `repo.py` read when the `feast` CLI runs."""
    (settings.root / "feast").mkdir(parents=True, exist_ok=True)
    return {
        f"{ENV_PREFIX}PROJECT": settings.feast.project,
        # JSON is YAML: each variable expands to a whole mapping.
        f"{ENV_PREFIX}REGISTRY": json.dumps(registry_config(settings)),
        f"{ENV_PREFIX}ONLINE_STORE": json.dumps(online_store_config(settings)),
        f"{ENV_PREFIX}OFFLINE_STORE": json.dumps(offline_store_config(settings)),
        # repo.py rebuilds the definitions from these: the same paths, windows and sizes.
        "ENGAGEFLOW_DATA_DIR": str(settings.root),
        "ENGAGEFLOW_FEAST": settings.feast.model_dump_json(),
    }


def run_feast(settings: Settings, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run the `feast` CLI on this repo with the settings' stores (`engageflow feast ...`)."""
    feast = Path(sys.executable).with_name("feast")
    chdir = [] if {"-c", "--chdir"} & set(args) else ["-c", str(REPO_DIR)]
    env = {**os.environ, **feast_env(settings)}
    return subprocess.run([str(feast), *chdir, *args], env=env, check=check)
