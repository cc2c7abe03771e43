"""The /rank request and response: pydantic models, so the OpenAPI page documents them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from engageflow.schema import Policy


class RankRequest(BaseModel):
    """Rank `candidates` for `user_id` and return the best `k`."""

    model_config = ConfigDict(extra="forbid")

    user_id: str = Field(min_length=1, max_length=256, examples=["p_3f2a9c"])
    candidates: list[str] = Field(
        min_length=1, max_length=1000, examples=[["i0000001", "i0000002"]]
    )
    k: int = Field(default=10, ge=1, le=1000)
    context: dict[str, str | int | float] = Field(
        default_factory=dict, description="request context, e.g. device and hour"
    )


class RankedItem(BaseModel):
    item_id: str
    score: float
    position: int
    propensity: float = Field(description="P(this item is in the slate) under the serving policy")


class RankResponse(BaseModel):
    request_id: str
    user_id: str
    policy: Policy
    model_version: str | None
    reason: str = Field(description="why this policy served, e.g. 'champion v3', 'unknown user'")
    items: list[RankedItem]


class LoadedModelInfo(BaseModel):
    version: str
    feature_service: str = Field(description="the Feast FeatureService its features come from")
    features_loaded: bool = Field(description="its item table is loaded; False serves fallback")


class ModelsResponse(BaseModel):
    """What this worker serves now (each worker follows the aliases on its own)."""

    champion: LoadedModelInfo | None
    challenger: LoadedModelInfo | None
