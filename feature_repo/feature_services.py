"""One FeatureService per model version: the ranker trains on it and serves from it.

Add `ranker_v2` beside `ranker_v1` rather than editing v1, so a registered model keeps reading
exactly the features it was trained on.
"""

from __future__ import annotations

from feast import FeatureService, FeatureView
from feast.on_demand_feature_view import OnDemandFeatureView

from feature_repo.tables import ITEM_ENGAGEMENT, ITEM_PROFILE, USER_ENGAGEMENT

RANKER_V1 = "ranker_v1"


def feature_services(
    views: dict[str, FeatureView], on_demand: dict[str, OnDemandFeatureView]
) -> dict[str, FeatureService]:
    """The services by name; the item embedding is left out of v1 (its basis moves daily)."""
    profile = views[ITEM_PROFILE][
        ["topic", "headline_sensationalism", "production_score", "duration_seconds"]
    ]
    return {
        RANKER_V1: FeatureService(
            name=RANKER_V1,
            features=[
                views[USER_ENGAGEMENT],
                views[ITEM_ENGAGEMENT],
                profile,
                on_demand["user_item_match"],
            ],
            description="Ranker v1: engagement stats, item profile, user-item topic match, age.",
        )
    }
