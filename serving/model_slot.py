"""The models behind the `champion` and `challenger` aliases, reloaded when an alias moves.

A poll reads where each alias points; when it moved, the new version is loaded fully before one
attribute assignment swaps it in (atomic for readers), and a load failure keeps the old model.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import numpy as np
import xgboost as xgb

from engageflow.registry import is_missing

log = logging.getLogger(__name__)
ALIASES = ("champion", "challenger")


@dataclass(frozen=True)
class LoadedModel:
    alias: str
    version: str
    booster: xgb.Booster
    feature_names: list[str]
    feature_service: str | None

    def score(self, features: np.ndarray) -> np.ndarray:
        """P(good engagement) (or a ranking score) for rows in `feature_names` order."""
        return self.booster.inplace_predict(features, validate_features=False)


def load_alias(client, model_name: str, alias: str) -> LoadedModel:
    """Load the version behind `alias` as a native Booster (pyfunc would return labels)."""
    import mlflow.xgboost

    version = client.get_model_version_by_alias(model_name, alias)
    model = mlflow.xgboost.load_model(f"models:/{model_name}/{version.version}")
    booster = model.get_booster() if hasattr(model, "get_booster") else model
    # A slate is ~100 rows: one thread beats waking OpenMP's pool (p95 4.6 ms -> 1.8 ms here).
    booster.set_param({"nthread": 1})
    service = client.get_run(version.run_id).data.params.get("feature_service")
    return LoadedModel(
        alias, str(version.version), booster, list(booster.feature_names or []), service
    )


class ModelSlot:
    """Holds the current champion and challenger; `refresh` is safe to call from a timer."""

    def __init__(self, client, model_name: str) -> None:
        self._client, self._name = client, model_name
        self._lock = threading.Lock()
        self.models: dict[str, LoadedModel] = {}

    def refresh(self) -> bool:
        """Follow alias moves; True when something changed. Never raises for a bad load."""
        changed = False
        with self._lock:
            for alias in ALIASES:
                current = self.models.get(alias)
                try:
                    target = self._client.get_model_version_by_alias(self._name, alias).version
                except Exception as err:
                    if current is not None and is_missing(err):
                        # Retired (e.g. the challenger after a promotion): stop serving it.
                        self.models = {k: v for k, v in self.models.items() if k != alias}
                        changed = True
                        continue
                    log.info(
                        "alias %s of %s not available; keeping what is loaded", alias, self._name
                    )
                    continue
                if current is not None and current.version == str(target):
                    continue
                try:
                    loaded = load_alias(self._client, self._name, alias)
                except Exception:
                    log.exception(
                        "loading %s@%s failed; keeping version %s",
                        self._name,
                        alias,
                        current.version if current else None,
                    )
                    continue
                self.models = {
                    **self.models,
                    alias: loaded,
                }  # one assignment: readers see old or new
                changed = True
        return changed
