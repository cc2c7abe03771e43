"""The champion a day is monitored against: its version, FeatureService, features and the
training data it learned from (the drift reference)."""

from __future__ import annotations

import json
import tempfile
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
    )


def reference_frame(settings: Settings, model: Champion) -> pd.DataFrame:
    """The champion's drift reference (a sample of its training split: policy, labels and
    features), read from its MLflow run."""
    from engageflow.registry import REFERENCE_ARTIFACT, run_file

    with tempfile.TemporaryDirectory() as into:
        path = run_file(settings, model.run_id, REFERENCE_ARTIFACT, Path(into))
        if path is None:
            raise DataError(
                f"champion v{model.version}'s run {model.run_id} has no {REFERENCE_ARTIFACT} "
                "(it was trained before models logged their drift reference): train a new "
                "model (`engageflow model train`) and promote it"
            )
        return pd.read_parquet(path, columns=["policy", "good", "bad", *model.features])
