"""The serving model slot follows alias moves in a real MLflow registry (SQLite)."""

from __future__ import annotations

import shutil
from pathlib import Path

import mlflow
import numpy as np
import pytest
import xgboost as xgb
from mlflow import MlflowClient

from serving.model_slot import ModelSlot

NAME = "engagement_ranker"


@pytest.fixture
def client(tmp_path: Path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    experiment = MlflowClient(tracking_uri=uri).create_experiment(
        "slot-test", artifact_location=(tmp_path / "artifacts").as_uri()
    )
    mlflow.set_experiment(experiment_id=experiment)
    yield MlflowClient(tracking_uri=uri)
    mlflow.set_tracking_uri(previous)


def _register(client: MlflowClient, slope: float) -> str:
    rng = np.random.default_rng(0)
    x = rng.random((200, 2))
    y = (x[:, 0] * slope > 0.5 * slope).astype(int)
    booster = xgb.train(
        {"objective": "binary:logistic", "seed": 0},
        xgb.DMatrix(x, y, feature_names=["a", "b"]),
        num_boost_round=5,
    )
    with mlflow.start_run():
        mlflow.log_param("feature_service", f"ranker_v{int(slope > 0) + 1}")
        info = mlflow.xgboost.log_model(booster, name="model", registered_model_name=NAME)
    return str(client.get_model_version(NAME, info.registered_model_version).version)


def test_slot_loads_follows_and_survives_bad_versions(client: MlflowClient, tmp_path: Path) -> None:
    slot = ModelSlot(client, NAME)
    assert slot.refresh() is False and slot.models == {}  # nothing registered yet

    first = _register(client, 1.0)
    client.set_registered_model_alias(NAME, "champion", first)
    assert slot.refresh() is True
    champion = slot.models["champion"]
    assert (champion.version, champion.feature_names) == (first, ["a", "b"])
    assert champion.feature_service == "ranker_v2"
    high, low = champion.score(np.array([[0.9, 0.1], [0.1, 0.9]], dtype=np.float32))
    assert high > low
    assert slot.refresh() is False  # nothing moved

    second = _register(client, -1.0)
    client.set_registered_model_alias(NAME, "champion", second)
    assert slot.refresh() is True and slot.models["champion"].version == second

    broken = _register(client, 1.0)
    artifacts = Path(client.get_model_version_download_uri(NAME, broken).removeprefix("file://"))
    assert artifacts.is_dir()
    shutil.rmtree(artifacts)
    client.set_registered_model_alias(NAME, "champion", broken)
    assert slot.refresh() is False
    assert slot.models["champion"].version == second  # the old model keeps serving

    client.set_registered_model_alias(NAME, "challenger", first)
    assert slot.refresh() is True and slot.models["challenger"].version == first
    client.delete_registered_model_alias(NAME, "challenger")  # retired after a promotion
    assert slot.refresh() is True and "challenger" not in slot.models
    assert slot.models["champion"].version == second
