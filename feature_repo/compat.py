"""Feast workarounds, one place: each names the upstream issue or the failure it answers, and
goes once the installed Feast no longer needs it."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from engageflow.errors import DataError

# Feast issue #6780: a materialization marks its views MATERIALIZING in the registry, and Feast
# then refuses to read them, offline too. Seen: a retrain started while the day's features
# materialized failed until retried. Reads keep the last materialized values instead. The file
# registry honours the flag as well (feast/infra/registry/registry.py reads it).
KEEP_SERVING = {"serve_features_while_materializing": True}

# Feast's SQL registry caches for 600 s by default; DAG tasks apply definitions while
# long-lived readers must notice soon.
SQL_REGISTRY_CACHE_TTL_SECONDS = 60

ROW = "_entity_row"


class _FileRegistryFlagWarning(logging.Filter):
    """Drops Feast 0.67's "`serve_features_while_materializing` is enabled but `registry_type`
    is 'file'" (repo_config.py): advisory, wrong for the file registry (which honours the
    flag), and printed by every process that builds a store."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (
            message.startswith("`serve_features_while_materializing` is enabled but")
            and "'file'" in message
        )


_FILTER = _FileRegistryFlagWarning()


def quiet_file_registry_warning() -> None:
    """Install the filter on Feast's `feast.repo_config` logger (once; idempotent)."""
    logger = logging.getLogger("feast.repo_config")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)


def no_registry_refresh_on_read(config) -> None:
    """A RepoConfig whose registry cache never expires, for a reader that refreshes it itself.

    Feast (sync cache mode) re-reads an expired registry inside the read that finds it expired,
    i.e. on a ranking request; TTL 0 means "never expires" there (infra/registry/registry.py).
    """
    config.registry.cache_ttl_seconds = 0


# redis-py 7 retries a failed command 3 times with exponential backoff of up to 10 s each
# (`Redis(retry=Retry(ExponentialWithJitterBackoff(base=1, cap=10), 3))`), and Feast builds its
# client with that default. A reader with a 50 ms budget then holds its threads for seconds after
# Redis is back. Seen: /rank served the fallback for more than 3 s after a restarted Redis
# answered. One immediate retry still covers a pooled connection the restart closed.
SERVING_REDIS_RETRIES = 1
SERVING_REDIS_SOCKET_TIMEOUT_S = 1.0  # a silent (not refusing) Redis frees a thread this soon


def redis_fails_fast(store) -> None:
    """Give a FeatureStore's Redis client (if it has one) no backoff and bounded socket waits."""
    from feast.infra.online_stores.redis import RedisOnlineStore
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    online = store._get_provider().online_store
    if not isinstance(online, RedisOnlineStore):
        return
    client = online._get_client(store.config.online_store)
    client.set_retry(Retry(NoBackoff(), SERVING_REDIS_RETRIES))
    client.connection_pool.connection_kwargs.update(
        socket_timeout=SERVING_REDIS_SOCKET_TIMEOUT_S,
        socket_connect_timeout=SERVING_REDIS_SOCKET_TIMEOUT_S,
    )


def historical_in_entity_order(store, entity_df: pd.DataFrame, features) -> pd.DataFrame:
    """`get_historical_features(...).to_df()` with its rows in `entity_df`'s order.

    Feast's DuckDB offline store returns every entity row once, but not in the given order
    (NOTES.md, Feast 0.67): the rows are numbered before the join and sorted back after it.
    """
    numbered = entity_df.reset_index(drop=True).assign(**{ROW: np.arange(len(entity_df))})
    joined = store.get_historical_features(entity_df=numbered, features=features).to_df()
    if len(joined) != len(numbered):
        raise DataError(f"feature join returned {len(joined)} rows for {len(numbered)}")
    return joined.sort_values(ROW).drop(columns=ROW).reset_index(drop=True)
