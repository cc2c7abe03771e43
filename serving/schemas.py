"""The /rank request and response: pydantic models, so the OpenAPI page documents them."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

from engageflow.schema import Policy

# BentoML's OpenAPI (3.0) keeps only the first branch of `anyOf`, so `str | None` would read as
# a plain string there; 3.0 spells "or null" as `nullable`.
NullableStr = Annotated[str | None, WithJsonSchema({"type": "string", "nullable": True})]
NullableTime = Annotated[
    datetime | None, WithJsonSchema({"type": "string", "format": "date-time", "nullable": True})
]
LATEST_TS = 253402300799  # 9999-12-31T23:59:59Z, the last second a datetime holds
# Whole-body examples for the Swagger page. `example`, not `examples`: BentoML's OpenAPI is 3.0,
# whose Schema object has only `example`, and BentoML drops the keys 3.0 does not know.
RANK_REQUEST_EXAMPLE = {
    "user_id": "p_3f2a9c",
    "candidates": ["i0000001", "i0000002", "i0000003"],
    "k": 2,
    "context": {"device": "mobile", "hour": 21},
}
RANK_RESPONSE_EXAMPLE = {
    "request_id": "5f0c3a9e1b7d4c2a8e6f0d1b3c5a7e9f",
    "user_id": "p_3f2a9c",
    "policy": "champion",
    "model_version": "3",
    "reason": "champion v3",
    "items": [
        {"item_id": "i0000002", "score": 0.81, "position": 0, "propensity": 1.0},
        {"item_id": "i0000001", "score": 0.42, "position": 1, "propensity": 1.0},
    ],
}


class RankRequest(BaseModel):
    """Rank `candidates` for `user_id` and return the best `k`."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": RANK_REQUEST_EXAMPLE})

    user_id: str = Field(min_length=1, max_length=256, examples=["p_3f2a9c"])
    candidates: list[str] = Field(
        min_length=1, max_length=1000, examples=[["i0000001", "i0000002"]]
    )
    k: int = Field(default=10, ge=1, le=1000)
    context: dict[str, str | int | float] = Field(
        default_factory=dict,
        description="request context, e.g. device and hour; `request_ts` (epoch seconds) "
        "replaces the clock",
    )

    @field_validator("context")
    @classmethod
    def _request_ts(cls, context: dict[str, str | int | float]) -> dict[str, str | int | float]:
        stamp = context.get("request_ts")
        if stamp is None:
            return context
        if isinstance(stamp, str | bool) or not math.isfinite(stamp) or not 0 <= stamp <= LATEST_TS:
            raise ValueError(
                f"context.request_ts must be epoch seconds between 0 and {LATEST_TS}, got {stamp!r}"
            )
        return context


class RankedItem(BaseModel):
    item_id: str
    score: float
    position: int
    propensity: float = Field(description="P(this item is in the slate) under the serving policy")


class RankResponse(BaseModel):
    """The best `k` candidates, best first, and which policy and model chose them."""

    model_config = ConfigDict(json_schema_extra={"example": RANK_RESPONSE_EXAMPLE})

    request_id: str
    user_id: str
    policy: Policy
    model_version: NullableStr = Field(description="null when the fallback served")
    reason: str = Field(
        description="why this policy served, e.g. 'champion v3', "
        "'champion v3 (new user: no online row)', 'feature store unavailable: ...'"
    )
    items: list[RankedItem]


class LoadedModelInfo(BaseModel):
    version: str
    feature_service: str = Field(description="the Feast FeatureService its features come from")
    features_loaded: bool = Field(description="its item table is loaded; False serves fallback")


class ModelsResponse(BaseModel):
    """What this worker serves now (each worker follows the aliases on its own)."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "champion": {
                    "version": "3",
                    "feature_service": "ranker_v3",
                    "features_loaded": True,
                },
                "challenger": None,
            }
        }
    )

    champion: LoadedModelInfo | None
    challenger: LoadedModelInfo | None
    features_through: NullableTime = Field(
        default=None,
        description="every Feast feature view was materialized this far when the item tables "
        "loaded",
    )
