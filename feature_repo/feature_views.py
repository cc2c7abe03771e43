"""Batch feature views: one per offline table, with Feast fields derived from its Arrow schema."""

from __future__ import annotations

from datetime import timedelta

import pyarrow as pa
from feast import Entity, FeatureView, Field
from feast.data_source import DataSource
from feast.types import Array, Bool, FeastType, Float32, Int64, String

from engageflow.settings import Settings
from feature_repo.tables import KEY, feature_names, table_schemas

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
}


def feature_views(
    settings: Settings, entities: dict[str, Entity], sources: dict[str, DataSource]
) -> dict[str, FeatureView]:
    """One FeatureView per offline table; a row serves for `settings.feast.ttl_days`."""
    ttl = timedelta(days=settings.feast.ttl_days)
    by_key = {entity.join_key: entity for entity in entities.values()}
    views = {}
    for view, schema in table_schemas(settings.feast).items():
        views[view] = FeatureView(
            name=view,
            entities=[by_key[KEY[view]]],
            ttl=ttl,
            schema=[
                Field(name=name, dtype=ARROW_TO_FEAST[schema.field(name).type])
                for name in feature_names(schema)
            ],
            source=sources[view],
            online=True,
            description=DESCRIPTIONS[view],
        )
    return views
