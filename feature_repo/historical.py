"""Point-in-time joins through Feast's offline store: a frame of impressions plus a
FeatureService's features as of each impression's time, in the frame's own row order.

Training builds its sets with it, monitoring rebuilds what the champion was served with.
"""

from __future__ import annotations

import pandas as pd

from engageflow.errors import DataError
from feature_repo import point_in_time
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


def join_features(
    store, impressions: pd.DataFrame, service_name: str, via_feast: bool = False
) -> pd.DataFrame:
    """`impressions` plus the service's features (float32) as of each impression's time, same
    row order: through DuckDB ASOF joins planned from the registry (point_in_time.py), or
    Feast's `get_historical_features` where that plan does not apply (or `via_feast`)."""
    ts = impressions["ts"].astype("datetime64[us, UTC]")
    entity = pd.DataFrame(
        {
            "user_id": impressions["user_id"].to_numpy(),
            "item_id": impressions["item_id"].to_numpy(),
            "event_timestamp": ts.array,
            "request_ts": ts.array,
        }
    )
    service = feature_service(store, service_name)
    features = service_features(store, service_name)
    plan = None if via_feast else point_in_time.plan(store, service)
    if plan is not None:
        values = pd.DataFrame(point_in_time.join(plan, entity), columns=features, copy=False)
    else:
        joined = historical_in_entity_order(store, entity, service)
        values = pd.DataFrame(
            {
                name: pd.to_numeric(joined[name], errors="coerce").astype("float32")
                for name in features
            }
        )
    return pd.concat([impressions.reset_index(drop=True), values], axis=1, copy=False)
