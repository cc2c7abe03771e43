"""A day as it was served: labelled impressions, the champion's features point in time from the
Feast offline store, and the scores (logged by serving, else recomputed by the champion)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from engageflow import lake, schema
from engageflow.errors import DataError
from engageflow.labels import IMPRESSION_KEY, impression_labels
from engageflow.settings import Settings
from monitoring.champion import Champion

ENTITY_KEY = ["user_id", "item_id", "event_timestamp"]


def day_events(settings: Settings, day: date) -> pd.DataFrame:
    """The day's lake events; fails with what to run when the day was not ingested."""
    table = lake.read_partition(settings.root, "lake", "events", day, schema.EVENTS)
    if table is None:
        folder = lake.partition_dir(settings.root, "lake", "events", day)
        raise DataError(f"{folder} is missing: ingest {day} (the ingest_events DAG) first")
    return table.to_pandas()


def labelled_impressions(settings: Settings, events: pd.DataFrame) -> pd.DataFrame:
    """One row per impression with good, bad and clicked (labels arrive with the day's events)."""
    return impression_labels(events, settings.labels)


def feast_features(settings: Settings, impressions: pd.DataFrame, service: str) -> pd.DataFrame:
    """`impressions` with the FeatureService's features as of each impression's time (PIT)."""
    from feature_repo.store import feature_store

    store = feature_store(settings)
    ts = impressions["ts"].astype("datetime64[us, UTC]")
    entities = pd.DataFrame(
        {
            "user_id": impressions["user_id"],
            "item_id": impressions["item_id"],
            "event_timestamp": ts,
        }
    ).drop_duplicates(ENTITY_KEY)
    entities["request_ts"] = entities["event_timestamp"]
    found = store.get_historical_features(
        entity_df=entities, features=store.get_feature_service(service)
    ).to_df()
    # DuckDB does not keep row order: join back on the entity key.
    found = found.drop(columns=["request_ts"]).drop_duplicates(ENTITY_KEY)
    keyed = impressions.assign(event_timestamp=ts)
    return keyed.merge(found, on=ENTITY_KEY, how="left").drop(columns=["event_timestamp"])


def interim_features(settings: Settings, day: date) -> pd.DataFrame:
    """The interim training frame of the day (models trained before the Feast dataset)."""
    from training.frames import interim_frame

    return interim_frame(settings, [day])


def served_features(
    settings: Settings, day: date, impressions: pd.DataFrame, model: Champion
) -> pd.DataFrame:
    """The sampled impressions with exactly the features the champion was served with."""
    from training.frames import INTERIM_FEATURE_SERVICE

    if model.feature_service == INTERIM_FEATURE_SERVICE:
        frame = interim_features(settings, day)
        columns = frame[[*IMPRESSION_KEY, *model.features]].drop_duplicates(IMPRESSION_KEY)
        # The frame's spelling of a feature wins over the raw event column (e.g. `hour`).
        out = impressions.drop(columns=model.features, errors="ignore").merge(
            columns, on=IMPRESSION_KEY, how="inner"
        )
    else:
        out = feast_features(settings, impressions, model.feature_service)
    missing = [f for f in model.features if f not in out.columns]
    if missing:
        raise DataError(
            f"FeatureService {model.feature_service!r} of champion v{model.version} lacks "
            f"{missing}; the champion was trained on features the store no longer serves"
        )
    return out


def logged_scores(settings: Settings, day: date) -> pd.DataFrame | None:
    """The prediction log of the day (score per request and item), or None when absent."""
    table = lake.read_partition(settings.root, "lake", "predictions", day)
    if table is None:
        return None
    logged = table.select([*IMPRESSION_KEY, "score"]).to_pandas()
    return logged.dropna(subset=["score"]).drop_duplicates(IMPRESSION_KEY)


def champion_scores(settings: Settings, model: Champion, frame: pd.DataFrame) -> np.ndarray:
    """The champion's scores for `frame`, computed offline from its registered booster."""
    from training.registry import load_booster
    from training.train import predict

    return predict(load_booster(settings, model.version), frame)


def with_scores(
    settings: Settings, day: date, frame: pd.DataFrame, model: Champion
) -> pd.DataFrame:
    """Add `score` (logged when served, else the champion's) and `score_source`."""
    logged = logged_scores(settings, day)
    out = frame.drop(columns=["score"], errors="ignore")
    if logged is not None:
        out = out.merge(logged, on=IMPRESSION_KEY, how="left")
    else:
        out["score"] = np.nan
    missing = out["score"].isna().to_numpy()
    out["score_source"] = np.where(missing, "champion_offline", "prediction_log")
    if missing.any():
        out.loc[missing, "score"] = champion_scores(settings, model, out.loc[missing])
    out["score"] = out["score"].astype(float)
    return out
