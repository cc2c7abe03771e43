"""One FeatureService per model version: the ranker trains on it and serves from it.

Add `ranker_v2` beside `ranker_v1` rather than editing v1, so a registered model keeps reading
exactly the features it was trained on.
"""

from __future__ import annotations

from feast import FeatureService, FeatureView
from feast.on_demand_feature_view import OnDemandFeatureView

from feature_repo.tables import (
    ITEM_EMBEDDING,
    ITEM_ENGAGEMENT,
    ITEM_HISTORY,
    ITEM_PROFILE,
    USER_ATTRIBUTES,
    USER_ENGAGEMENT,
    USER_HISTORY,
)

RANKER_V1 = "ranker_v1"
RANKER_V2 = "ranker_v2"


def feature_services(
    views: dict[str, FeatureView], on_demand: dict[str, OnDemandFeatureView]
) -> dict[str, FeatureService]:
    """The services by name."""
    profile = views[ITEM_PROFILE][
        ["topic", "headline_sensationalism", "production_score", "duration_seconds"]
    ]
    v1 = [views[USER_ENGAGEMENT], views[ITEM_ENGAGEMENT], profile, on_demand["user_item_match"]]
    return {
        RANKER_V1: FeatureService(
            name=RANKER_V1,
            features=v1,
            description="Ranker v1: engagement stats, item profile, user-item topic match, age.",
        ),
        RANKER_V2: FeatureService(
            name=RANKER_V2,
            features=[
                *v1,
                *(_history(views[view]) for view in (USER_HISTORY, ITEM_HISTORY)),
                views[ITEM_EMBEDDING][["cold_start"]],
                on_demand["user_item_similarity"],
                views[USER_ATTRIBUTES][["user_age_band", "user_region", "user_tenure_days"]],
                on_demand["user_declared_match"],
            ],
            description="Ranker v2: v1 plus long-horizon user and item histories, the "
            "user-item taste similarity over stable item embeddings, and the user's static "
            "attributes with a declared-topic match.",
        ),
    }


def _history(view: FeatureView) -> FeatureView:
    """A history view's scalar features: without the carry-over bookkeeping (the last-seen time
    in epoch seconds; `lt_days_since_seen` says the same) and the taste vector (it reaches the
    model through `taste_similarity`)."""
    kept = [f.name for f in view.features if not f.name.endswith(("_epoch_s", "_taste"))]
    return view[kept]
