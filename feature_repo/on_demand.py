"""Features computed at request time from stored features and the request itself."""

from __future__ import annotations

from typing import Any

from feast import FeatureView, Field, RequestSource
from feast.on_demand_feature_view import OnDemandFeatureView, on_demand_feature_view
from feast.types import Float64

from feature_repo.tables import (
    ITEM_EMBEDDING,
    ITEM_PROFILE,
    USER_ATTRIBUTES,
    USER_HISTORY,
    USER_TOPIC_AFFINITY,
)


def user_item_match(views: dict[str, FeatureView], request: RequestSource) -> OnDemandFeatureView:
    """`topic_affinity_match` (the user's affinity for the item's topic), `item_age_hours`."""

    # Feast serializes this function by value into the registry: it must not refer to anything
    # outside its own body. Unknown values are NaN, not None: Feast infers the output types by
    # calling it on sample rows, and XGBoost reads NaN as missing.
    @on_demand_feature_view(
        sources=[views[USER_TOPIC_AFFINITY], views[ITEM_PROFILE], request],
        schema=[
            Field(name="topic_affinity_match", dtype=Float64),
            Field(name="item_age_hours", dtype=Float64),
        ],
        mode="python",
        description="Computed per (user, item) at request time; needs request_ts.",
    )
    def user_item_match(inputs: dict[str, list[Any]]) -> dict[str, list[Any]]:
        match, age = [], []
        for affinity, topic, created, asked in zip(
            inputs["topic_affinity"],
            inputs["topic"],
            inputs["created_at_epoch_s"],
            inputs["request_ts"],
            strict=True,
        ):
            known = affinity is not None and topic is not None and 0 <= topic < len(affinity)
            match.append(float(affinity[topic]) if known else float("nan"))
            if created is None or asked is None:
                age.append(float("nan"))
                continue
            # A datetime from the Python SDK, epoch seconds over HTTP (`feast serve`).
            asked_s = asked.timestamp() if hasattr(asked, "timestamp") else float(asked)
            age.append((asked_s - created) / 3600.0)
        return {"topic_affinity_match": match, "item_age_hours": age}

    return user_item_match


def user_item_similarity(views: dict[str, FeatureView]) -> OnDemandFeatureView:
    """`taste_similarity`: the cosine of the user's taste (user_history) and the item's
    embedding, both in the embedding's day-to-day stable basis; NaN where either is unknown
    or zero (a user with no good engagement yet)."""

    @on_demand_feature_view(
        sources=[views[USER_HISTORY][["user_lt_taste"]], views[ITEM_EMBEDDING][["embedding"]]],
        schema=[Field(name="taste_similarity", dtype=Float64)],
        mode="python",
        description="Cosine of the user's decayed taste vector and the item embedding.",
    )
    def user_item_similarity(inputs: dict[str, list[Any]]) -> dict[str, list[Any]]:
        out = []
        for taste, vector in zip(inputs["user_lt_taste"], inputs["embedding"], strict=True):
            if taste is None or vector is None or len(taste) != len(vector):
                out.append(float("nan"))
                continue
            dot = sum(a * b for a, b in zip(taste, vector, strict=True))
            norms = sum(a * a for a in taste) ** 0.5 * sum(b * b for b in vector) ** 0.5
            out.append(dot / norms if norms > 0 else float("nan"))
        return {"taste_similarity": out}

    return user_item_similarity


def user_declared_match(views: dict[str, FeatureView]) -> OnDemandFeatureView:
    """`declared_topic_match`: 1 when the user declared the item's topic, 0 when they declared
    others, NaN when they declared none (or have no attributes)."""

    @on_demand_feature_view(
        sources=[views[USER_ATTRIBUTES][["user_declared_topics"]], views[ITEM_PROFILE][["topic"]]],
        schema=[Field(name="declared_topic_match", dtype=Float64)],
        mode="python",
        description="Whether the item's topic is one the user declared as an interest.",
    )
    def user_declared_match(inputs: dict[str, list[Any]]) -> dict[str, list[Any]]:
        out = []
        for declared, topic in zip(inputs["user_declared_topics"], inputs["topic"], strict=True):
            if not declared or topic is None:
                out.append(float("nan"))
                continue
            out.append(float(declared[topic]) if 0 <= topic < len(declared) else 0.0)
        return {"declared_topic_match": out}

    return user_declared_match
