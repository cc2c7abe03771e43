"""Batch feature views: one per offline table, with Feast fields derived from its Arrow schema."""

from __future__ import annotations

from datetime import timedelta

import pyarrow as pa
from feast import Entity, FeatureView, Field
from feast.data_source import DataSource
from feast.types import Array, Bool, FeastType, Float32, Int64, String

from engageflow.settings import Settings
from feature_repo.tables import KEY, LASTING_VIEWS, feature_names, table_schemas

ARROW_TO_FEAST: dict[pa.DataType, FeastType] = {
    pa.int64(): Int64,
    pa.float32(): Float32,
    pa.string(): String,
    pa.bool_(): Bool,
    pa.list_(pa.float32()): Array(Float32),
}
DESCRIPTIONS = {
    "user_engagement": "Impressions, clicks, CTR, good/bad rates and dwell per user, per window.",
    "item_engagement": "The same per item, plus hide and report rates.",
    "user_topic_affinity": "A user's shrunk good-engagement rate per topic (index = topic id).",
    "item_embedding": "Unit vectors from co-clicks; cold_start marks topic-mean fallbacks.",
    "item_profile": "Catalog metadata: topic, creator, creation time, observable quality cues.",
    "user_history": "Decayed lifetime impressions, clicks, good/bad sums and shrunk rates per "
    "user, with days since last seen; a row outlives the windows.",
    "item_history": "The same per item; its good rate is the fallback's long-term prior.",
    "user_attributes": "Coarse static attributes from the user table: age band, region code, "
    "days since signup, declared topics (1 at each declared topic's index).",
}


def feature_views(
    settings: Settings, entities: dict[str, Entity], sources: dict[str, DataSource]
) -> dict[str, FeatureView]:
    """One FeatureView per offline table; a row serves for `settings.feast.ttl_days`, a
    history or attribute row for `history_ttl_days` (a user back after a long pause is still
    known)."""
    config = settings.feast
    by_key = {entity.join_key: entity for entity in entities.values()}
    views = {}
    for view, schema in table_schemas(settings.feast).items():
        views[view] = FeatureView(
            name=view,
            entities=[by_key[KEY[view]]],
            ttl=timedelta(
                days=config.history_ttl_days if view in LASTING_VIEWS else config.ttl_days
            ),
            schema=[
                Field(name=name, dtype=ARROW_TO_FEAST[schema.field(name).type])
                for name in feature_names(schema)
            ],
            source=sources[view],
            online=True,
            description=DESCRIPTIONS[view],
        )
    return views
