"""A day as it was served: labelled impressions, the champion's features point in time from the
Feast offline store, and the scores (logged by serving, else recomputed by the champion)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from engageflow import lake, schema
from engageflow.errors import DataError
from engageflow.labels import IMPRESSION_KEY, impression_labels
from engageflow.sampling import stratified_sample
from engageflow.settings import Settings
from monitoring.champion import Champion


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


def served_features(
    settings: Settings, day: date, impressions: pd.DataFrame, model: Champion
) -> pd.DataFrame:
    """The impressions with exactly the features the champion was served with (PIT, Feast)."""
    from feature_repo.historical import join_features
    from feature_repo.store import feature_store

    out = join_features(feature_store(settings), impressions, model.feature_service)
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
    from engageflow.registry import load_booster
    from engageflow.scoring import predict

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


def seed_of(settings: Settings) -> int:
    config = settings.monitoring
    return config.seed if config.seed is not None else settings.seed


def current_sample(
    settings: Settings, day: date, impressions: pd.DataFrame, model: Champion
) -> pd.DataFrame:
    """A fixed-size sample of the day's impressions with served features and scores."""
    sample = stratified_sample(
        impressions, "policy", settings.monitoring.sample_size, seed_of(settings)
    )
    return with_scores(settings, day, served_features(settings, day, sample, model), model)
