"""Point-in-time joins through Feast's offline store: a frame of impressions plus a
FeatureService's features as of each impression's time, in the frame's own row order.

Training builds its sets with it, monitoring rebuilds what the champion was served with.
"""

from __future__ import annotations

import pandas as pd

from engageflow.errors import DataError
from feature_repo.compat import historical_in_entity_order


def feature_service(store, service_name: str):
    """The FeatureService from the registry, or a DataError that says how to get it there."""
    from feast.errors import FeatureServiceNotFoundException

    try:
        return store.get_feature_service(service_name)
    except FeatureServiceNotFoundException as err:
        raise DataError(
            f"FeatureService {service_name!r} is not in the Feast registry: build features first "
            "(the build_features DAG, or `engageflow backfill`), which applies the definitions"
        ) from err


def service_features(store, service_name: str) -> list[str]:
    """The FeatureService's feature names, in its declared order (the model's column order)."""
    service = feature_service(store, service_name)
    return [f.name for view in service.feature_view_projections for f in view.features]


def join_features(store, impressions: pd.DataFrame, service_name: str) -> pd.DataFrame:
    """`impressions` plus the service's features as of each impression's time, same row order."""
    entity = pd.DataFrame(
        {
            "user_id": impressions["user_id"].to_numpy(),
            "item_id": impressions["item_id"].to_numpy(),
            "event_timestamp": impressions["ts"].astype("datetime64[us, UTC]").to_numpy(),
            "request_ts": impressions["ts"].astype("datetime64[us, UTC]").to_numpy(),
        }
    )
    features = service_features(store, service_name)
    joined = historical_in_entity_order(store, entity, store.get_feature_service(service_name))
    out = impressions.reset_index(drop=True).copy()
    for name in features:
        out[name] = pd.to_numeric(joined[name], errors="coerce").astype("float32")
    return out
