"""The versioned contracts every stage shares: interaction events, the item catalog and the
users' static attributes.

One row per user action. An `impression` row records a shown item (slate position, serving
policy, model version, propensity); `click`, `like`, `share`, `hide` and `report` rows follow it
with the same request id and item. `dwell_seconds` is set on clicks only, and on `survey` rows
(a session's 1-5 satisfaction answer, about the request; its item is one the request showed) it
holds the score: a new event type keeps every v1 file valid, where a new column would not.
"""

from __future__ import annotations

from enum import StrEnum

import pyarrow as pa

from engageflow.errors import DataError

SCHEMA_VERSION = 1
SCHEMA_METADATA = {b"engageflow.schema_version": str(SCHEMA_VERSION).encode()}


class EventType(StrEnum):
    IMPRESSION = "impression"
    CLICK = "click"
    LIKE = "like"
    SHARE = "share"
    HIDE = "hide"
    REPORT = "report"
    SURVEY = "survey"  # explicit satisfaction after a session: the 1-5 score in dwell_seconds


class Policy(StrEnum):
    """Which serving path chose the slate; null for imported logs whose policy is unknown."""

    CHAMPION = "champion"
    CANARY = "canary"
    EXPLORE = "explore"
    FALLBACK = "fallback"


class Device(StrEnum):
    MOBILE = "mobile"
    DESKTOP = "desktop"
    TABLET = "tablet"


UTC_TS = pa.timestamp("us", tz="UTC")
TIME_ORDER = [("ts", "ascending"), ("event_id", "ascending")]  # the order of every events file

EVENTS = pa.schema(
    [
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("ts", UTC_TS, nullable=False),
        pa.field("user_id", pa.string(), nullable=False),
        pa.field("item_id", pa.string(), nullable=False),
        pa.field("event_type", pa.string(), nullable=False),
        pa.field("dwell_seconds", pa.float32()),
        pa.field("position", pa.int16()),
        pa.field("request_id", pa.string()),
        pa.field("policy", pa.string()),
        pa.field("model_version", pa.string()),
        pa.field("propensity", pa.float32()),
        pa.field("device", pa.string()),
        pa.field("hour", pa.int8()),
    ],
    metadata=SCHEMA_METADATA,
)

ITEMS = pa.schema(
    [
        pa.field("item_id", pa.string(), nullable=False),
        pa.field("created_at", UTC_TS, nullable=False),
        pa.field("topic", pa.int16(), nullable=False),
        pa.field("creator_id", pa.string(), nullable=False),
        # Observable metadata: noisy views of the latent quality and clickbait-ness.
        pa.field("headline_sensationalism", pa.float32()),
        pa.field("production_score", pa.float32()),
        pa.field("duration_seconds", pa.float32()),
    ],
    metadata=SCHEMA_METADATA,
)


# Static user attributes, coarse by design: an age band (never an age), a region held by enough
# users, the signup day, declared topics. The user importer refuses direct identifiers.
AGE_BANDS = ((0, 18), (18, 25), (25, 35), (35, 45), (45, 55), (55, 65), (65, 200))  # band 1..7
USERS = pa.schema(
    [
        pa.field("user_id", pa.string(), nullable=False),
        pa.field("signup_at", UTC_TS),  # midnight UTC of the signup day
        pa.field("age_band", pa.int8()),  # 1..len(AGE_BANDS), null when unknown
        pa.field("region", pa.int16()),  # a code; regions of few users share one code
        pa.field("declared_topics", pa.list_(pa.int16())),
    ],
    metadata=SCHEMA_METADATA,
)


PREDICTIONS = pa.schema(
    [
        pa.field("request_id", pa.string(), nullable=False),
        pa.field("ts", UTC_TS, nullable=False),
        pa.field("user_id", pa.string(), nullable=False),
        pa.field("item_id", pa.string(), nullable=False),
        pa.field("position", pa.int16(), nullable=False),
        pa.field("score", pa.float32()),
        pa.field("policy", pa.string(), nullable=False),
        pa.field("model_version", pa.string()),
        pa.field("propensity", pa.float32(), nullable=False),
        pa.field("feature_hash", pa.string()),
        pa.field("latency_ms", pa.float32()),
    ],
    metadata=SCHEMA_METADATA,
)
"""One row per shown item of a served slate; joins the events on (request_id, item_id)."""


class SchemaError(DataError, ValueError):
    """A table does not fit a contract; the message says which column and what to do."""


def conform(table: pa.Table, schema: pa.Schema, source: str) -> pa.Table:
    """Return `table` with exactly `schema`'s columns, order and types, or raise SchemaError."""
    missing = [name for name in schema.names if name not in table.column_names]
    extra = [name for name in table.column_names if name not in schema.names]
    if missing or extra:
        raise SchemaError(
            f"{source}: columns do not match schema v{SCHEMA_VERSION}: "
            f"missing {missing or 'none'}, unexpected {extra or 'none'}. "
            f"Expected exactly {schema.names}."
        )
    columns = []
    for field in schema:
        column = table.column(field.name)
        try:
            columns.append(column.cast(field.type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as err:
            raise SchemaError(
                f"{source}: column {field.name!r} has type {column.type}, "
                f"which does not convert to {field.type}: {err}"
            ) from err
        if not field.nullable and column.null_count:
            raise SchemaError(f"{source}: column {field.name!r} has {column.null_count} nulls")
    return pa.Table.from_arrays(columns, schema=schema)
