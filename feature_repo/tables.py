"""The offline feature tables: one Arrow schema per feature view, the single source of columns.

Feature views (feature_views.py) derive their Feast fields from these schemas, and the pipeline
casts every table it writes to them, so the Parquet files and the registry cannot disagree.
"""

from __future__ import annotations

import pyarrow as pa

from engageflow.schema import UTC_TS
from engageflow.settings import FeastConfig

USER_ENGAGEMENT = "user_engagement"
ITEM_ENGAGEMENT = "item_engagement"
USER_TOPIC_AFFINITY = "user_topic_affinity"
ITEM_EMBEDDING = "item_embedding"
ITEM_PROFILE = "item_profile"
USER_HISTORY = "user_history"
ITEM_HISTORY = "item_history"
USER_ATTRIBUTES = "user_attributes"
VIEWS = (
    USER_ENGAGEMENT,
    ITEM_ENGAGEMENT,
    USER_TOPIC_AFFINITY,
    ITEM_EMBEDDING,
    ITEM_PROFILE,
    USER_HISTORY,
    ITEM_HISTORY,
    USER_ATTRIBUTES,
)
HISTORY_VIEWS = (USER_HISTORY, ITEM_HISTORY)  # each day's table carries the day before's
LASTING_VIEWS = (*HISTORY_VIEWS, USER_ATTRIBUTES)  # rows serve for feast.history_ttl_days
OPTIONAL_VIEWS = (USER_ATTRIBUTES,)  # empty without a user table: an empty table is valid
TIMESTAMP = "event_timestamp"
KEY = {
    USER_ENGAGEMENT: "user_id",
    ITEM_ENGAGEMENT: "item_id",
    USER_TOPIC_AFFINITY: "user_id",
    ITEM_EMBEDDING: "item_id",
    ITEM_PROFILE: "item_id",
    USER_HISTORY: "user_id",
    ITEM_HISTORY: "item_id",
    USER_ATTRIBUTES: "user_id",
}

USER_STATS = ("impressions", "clicks", "ctr", "good_rate", "bad_rate", "mean_dwell")
ITEM_STATS = (*USER_STATS, "hide_rate", "report_rate")
COUNTS = ("impressions", "clicks")
VECTOR = pa.list_(pa.float32())
HISTORY_STATS = ("impressions", "clicks", "good", "bad", "ctr", "good_rate", "bad_rate")


def _history(prefix: str, taste: bool) -> list[pa.Field]:
    return [
        *(pa.field(f"{prefix}lt_{stat}", pa.float32()) for stat in HISTORY_STATS),
        pa.field(f"{prefix}lt_days_since_seen", pa.float32()),
        pa.field(f"{prefix}lt_last_seen_epoch_s", pa.int64()),
        *([pa.field(f"{prefix}lt_taste", VECTOR)] if taste else []),
    ]


def _windowed(prefix: str, stats: tuple[str, ...], windows: list[int]) -> list[pa.Field]:
    # Prefixed by entity, so one FeatureService can hold user and item stats without clashes.
    return [
        pa.field(f"{prefix}{stat}_{days}d", pa.int64() if stat in COUNTS else pa.float32())
        for days in windows
        for stat in stats
    ]


def table_schemas(config: FeastConfig) -> dict[str, pa.Schema]:
    """Every view's table: key, `event_timestamp` (the window end), then its features."""
    windows = config.windows_days
    features = {
        USER_ENGAGEMENT: [
            *_windowed("user_", USER_STATS, windows),
            pa.field("user_days_since_last_click", pa.float32()),
        ],
        ITEM_ENGAGEMENT: _windowed("item_", ITEM_STATS, windows),
        USER_TOPIC_AFFINITY: [pa.field("topic_affinity", VECTOR)],
        ITEM_EMBEDDING: [pa.field("embedding", VECTOR), pa.field("cold_start", pa.bool_())],
        ITEM_PROFILE: [
            pa.field("topic", pa.int64()),
            pa.field("creator_id", pa.string()),
            pa.field("created_at_epoch_s", pa.int64()),
            pa.field("headline_sensationalism", pa.float32()),
            pa.field("production_score", pa.float32()),
            pa.field("duration_seconds", pa.float32()),
        ],
        USER_HISTORY: _history("user_", taste=True),
        ITEM_HISTORY: _history("item_", taste=False),
        USER_ATTRIBUTES: [
            pa.field("user_age_band", pa.float32()),
            pa.field("user_region", pa.float32()),
            pa.field("user_tenure_days", pa.float32()),
            pa.field("user_declared_topics", VECTOR),
        ],
    }
    return {
        view: pa.schema(
            [
                pa.field(KEY[view], pa.string(), nullable=False),
                pa.field(TIMESTAMP, UTC_TS, nullable=False),
                *fields,
            ]
        )
        for view, fields in features.items()
    }


def feature_names(schema: pa.Schema) -> list[str]:
    """The feature columns of a table: everything but the key and the timestamp."""
    return schema.names[2:]
