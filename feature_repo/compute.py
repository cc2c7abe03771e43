"""All feature tables of one window end, from lake events and the catalog (pure, no I/O)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pyarrow as pa

from engageflow.settings import Settings
from feature_repo import tables
from feature_repo.transforms.affinity import user_topic_affinity
from feature_repo.transforms.embedding import item_embeddings
from feature_repo.transforms.engagement import engagement_stats
from feature_repo.transforms.labelled import DAY, labelled_impressions
from feature_repo.transforms.profile import item_profile


def lookback_days(settings: Settings) -> int:
    """How many days of events before the window end the tables read (longest window + 1)."""
    return max(settings.feast.windows_days) + 1


def compute_features(
    events: pd.DataFrame, catalog: pd.DataFrame, end: datetime, settings: Settings
) -> dict[str, pa.Table]:
    """One table per feature view, stamped `end`, from events strictly before `end`."""
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
            labelled, catalog, end, longest, config.embedding_dim, settings.seed
        ),
        tables.ITEM_PROFILE: item_profile(catalog, end),
    }
    schemas = tables.table_schemas(config)
    return {view: _conform(frames[view], schemas[view]) for view in tables.VIEWS}


def _prefixed(frame: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """Prefix the feature columns (not the key or timestamp) with the entity's name."""
    features = {column: prefix + column for column in frame.columns[2:]}
    return frame.rename(columns=features)


def _conform(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """Exactly the schema's columns, in its order and types."""
    return pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)
