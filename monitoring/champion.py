"""The champion a day is monitored against: its version, FeatureService, features and the
training data it learned from (the drift reference)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from engageflow.errors import DataError
from engageflow.settings import Settings


@dataclass(frozen=True)
class Champion:
    version: int
    run_id: str
    feature_service: str
    features: list[str]
    test_end: str  # names the training run's folder: <data_dir>/training/<test_end>/

    def train_path(self, settings: Settings) -> Path:
        return settings.root / "training" / self.test_end / "train.parquet"


def find_champion(settings: Settings) -> Champion | None:
    """The champion, or None before the first one (the loop's first days)."""
    from engageflow.aliases import CHAMPION
    from engageflow.registry import alias_version, connect

    version = alias_version(settings, CHAMPION)
    if version is None:
        return None
    client = connect(settings)
    run_id = client.get_model_version(settings.mlflow.registered_model, str(version)).run_id
    params = client.get_run(run_id).data.params
    return Champion(
        version=version,
        run_id=run_id,
        feature_service=params["feature_service"],
        features=json.loads(params["features"]),
        test_end=params["window.test_end"],
    )


def reference_frame(settings: Settings, model: Champion) -> pd.DataFrame:
    """The champion's training split (its features, labels and policy), read from its run dir."""
    path = model.train_path(settings)
    if not path.is_file():
        raise DataError(
            f"the training data of champion v{model.version} is gone ({path}): rerun "
            f"`engageflow model train --end {model.test_end}` or promote a version whose run "
            "folder is kept"
        )
    return pd.read_parquet(path, columns=["policy", "good", "bad", *model.features])
