"""All feature tables of one window end, from lake events and the catalog (pure, no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import pandas as pd
import pyarrow as pa

from engageflow.settings import Settings
from feature_repo import tables
from feature_repo.transforms.affinity import user_topic_affinity
from feature_repo.transforms.attributes import user_attributes
from feature_repo.transforms.embedding import item_embeddings
from feature_repo.transforms.engagement import engagement_stats
from feature_repo.transforms.history import Taste, decayed_history
from feature_repo.transforms.labelled import DAY, labelled_impressions
from feature_repo.transforms.profile import item_profile


def lookback_days(settings: Settings) -> int:
    """How many days of events before the window end the tables read (longest window + 1)."""
    return max(settings.feast.windows_days) + 1


def compute_features(
    events: pd.DataFrame,
    catalog: pd.DataFrame,
    end: datetime,
    settings: Settings,
    previous: Mapping[str, pd.DataFrame | None],
    users: pd.DataFrame | None = None,
) -> dict[str, pa.Table]:
    """One table per feature view, stamped `end`, from events strictly before `end`; the
    history views carry `previous` (their tables of an earlier stamp, or None) forward, and
    `users` (the newest user snapshot, if any) gives the attributes."""
    config = settings.feast
    longest = max(config.windows_days)
    start = end - lookback_days(settings) * DAY
    labelled = labelled_impressions(events, settings.labels, start, end)
    frames = {
        tables.USER_ENGAGEMENT: _prefixed(
            engagement_stats(labelled, "user_id", end, config.windows_days), "user_"
        ),
        tables.ITEM_ENGAGEMENT: _prefixed(
            engagement_stats(labelled, "item_id", end, config.windows_days), "item_"
        ),
        tables.USER_TOPIC_AFFINITY: user_topic_affinity(
            labelled, catalog, end, longest, config.affinity_prior
        ),
        tables.ITEM_EMBEDDING: item_embeddings(
            labelled,
            catalog,
            end,
            longest,
            config.embedding_dim,
            settings.seed,
            previous.get(tables.ITEM_EMBEDDING),
            config.embedding_half_life_days,
        ),
        tables.ITEM_PROFILE: item_profile(catalog, end),
        tables.USER_ATTRIBUTES: user_attributes(users, end),
    }
    today = labelled[labelled["ts"] >= end - DAY]
    frames |= history_frames(previous, today, frames[tables.ITEM_EMBEDDING], end, settings)
    schemas = tables.table_schemas(config)
    return {view: _conform(frames[view], schemas[view]) for view in tables.VIEWS}


def history_frames(
    previous: Mapping[str, pd.DataFrame | None],
    today: pd.DataFrame,
    embedding: pd.DataFrame | None,
    end: datetime,
    settings: Settings,
) -> dict[str, pd.DataFrame]:
    """The history views at `end`: `previous` carried forward plus `today`'s impressions; a
    user's taste adds up the `embedding` table's vectors of items engaged with well."""
    config = settings.feast
    taste = Taste.from_table(embedding, config.embedding_dim)
    return {
        view: decayed_history(
            previous.get(view),
            today,
            tables.KEY[view],
            end,
            config.history_half_life_days,
            config.history_prior,
            taste if tables.KEY[view] == "user_id" else None,
        )
        for view in tables.HISTORY_VIEWS
    }


def _prefixed(frame: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """Prefix the feature columns (not the key or timestamp) with the entity's name."""
    features = {column: prefix + column for column in frame.columns[2:]}
    return frame.rename(columns=features)


def _conform(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """Exactly the schema's columns, in its order and types."""
    return pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)
