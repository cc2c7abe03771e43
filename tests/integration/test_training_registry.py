"""The training pipeline against a real MLflow registry (SQLite in tmp) on simulated data."""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from datetime import date
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from worlds import featured_lake

from engageflow.aliases import CHALLENGER, CHAMPION, champion_stack, moves, promote, rollback
from engageflow.errors import DataError
from engageflow.registry import (
    REFERENCE_ARTIFACT,
    alias_version,
    connect,
    run_file,
    tracking_uri,
)
from engageflow.settings import Settings
from monitoring.champion import find_champion, reference_frame
from training import pipeline

pytestmark = pytest.mark.integration


@pytest.fixture
def world(settings: Settings) -> Settings:
    """Eight simulated days, ingested and with features; enough requests to tell models apart."""
    settings.simulation.requests_per_day = 2_000
    settings.training.train_days = 4
    settings.training.threads = 1
    return featured_lake(settings, 8)


def test_promotion_refusal_rollback_and_history(world: Settings) -> None:
    settings = world
    first = pipeline.run_all(settings, date(2026, 1, 7))
    assert first["passed"] and first["reference"] == "popularity"
    assert first["primary"]["lower"] > 0  # beats popularity (AUC within positions), surely
    table = first["evaluation"]["baselines"]
    assert table["oracle"]["auc"] > first["evaluation"]["metrics"]["auc"]
    assert alias_version(settings, CHAMPION) == 1  # the first model: nothing to A/B against
    assert alias_version(settings, CHALLENGER) is None

    window = pipeline.plan_window(settings, date(2026, 1, 8))
    broken = pipeline.build_dataset(settings, window, broken_features="*")
    model = pipeline.fit_model(settings, broken)
    evaluation = pipeline.evaluate_model(settings, broken, model)
    assert "champion v1" in evaluation["baselines"]
    registered = pipeline.register_model(settings, broken, model, evaluation)
    assert registered["version"] == 2
    assert alias_version(settings, CHALLENGER) is None  # not before the gate
    verdict = pipeline.gate_model(settings, broken, registered)
    assert not verdict["passed"] and verdict["reference"] == "champion v1"
    assert verdict["alias"] is None
    assert verdict["primary"]["upper"] < -settings.training.gate_tolerance
    assert alias_version(settings, CHAMPION) == 1  # the champion stays
    assert alias_version(settings, CHALLENGER) is None  # a refused version never serves
    tags = connect(settings).get_model_version(settings.mlflow.registered_model, "2").tags
    assert tags["gate"].startswith("refused vs champion v1")

    retrained = pipeline.run_all(settings, date(2026, 1, 8))
    assert retrained["version"] == 3 and retrained["passed"], retrained["reasons"]
    # A pass makes a challenger for the canary; only the A/B readout (or a hand) crowns it.
    assert (alias_version(settings, CHAMPION), alias_version(settings, CHALLENGER)) == (1, 3)
    promote(settings, 3, "the canary won", "oncall")
    assert (alias_version(settings, CHAMPION), alias_version(settings, CHALLENGER)) == (3, None)

    back = rollback(settings, "v3 hurt engagement", "oncall")
    assert (back.previous, back.version) == (3, 1)
    assert alias_version(settings, CHAMPION) == 1
    with pytest.raises(DataError, match="nothing to roll back to"):
        rollback(settings, "again", "oncall")
    promote(settings, 3, "fixed upstream", "oncall")

    champions = moves(settings, CHAMPION)
    assert [(m.version, m.kind) for m in champions] == [
        (1, "gate"),
        (3, "manual"),
        (1, "rollback"),
        (3, "manual"),
    ]
    assert champions[2].reason == "v3 hurt engagement" and champions[2].actor == "oncall"
    assert champions[0].reason.startswith("passed vs popularity: position_auc")
    assert champion_stack(champions) == [1, 3]
    assert [m.at for m in champions] == sorted(m.at for m in champions)
    every = moves(settings)
    assert [(m.alias, m.version, m.kind) for m in every if m.alias == CHALLENGER] == [
        (CHALLENGER, 3, "gate"),
        (CHALLENGER, None, "retire"),
    ]


def test_a_run_logs_what_reproduces_it(world: Settings) -> None:
    settings = world
    done = pipeline.run_all(settings, date(2026, 1, 7))
    assert tracking_uri(settings) == f"sqlite:///{settings.root / 'mlflow' / 'mlflow.db'}"
    client = connect(settings)
    version = client.get_model_version(settings.mlflow.registered_model, str(done["version"]))
    run = client.get_run(version.run_id)
    params = run.data.params
    assert params["window.train_start"] == "2026-01-02"
    assert params["window.test_end"] == "2026-01-07"
    assert params["feature_service"] == "ranker_v1"
    assert params["grouping"] == "request"  # the simulator's requests hold slates
    assert params["seed"] == str(settings.seed)
    assert params["imbalance"].startswith("none")
    assert len(params["git_commit"]) == 40 and params["package_version"] == "0.1.0"
    metrics = run.data.metrics
    assert {"auc", "gauc", "position_auc", "ndcg_at_10", "ece", "bad_rate_at_5"} <= set(metrics)
    assert metrics["oracle.auc"] > metrics["auc"] > metrics["popularity.auc"]
    files = {f.path for f in client.list_artifacts(run.info.run_id, "evaluation")}
    for name in ("roc.png", "pr.png", "reliability.png", "feature_importance.json"):
        assert f"evaluation/{name}" in files
    assert (settings.root / "mlflow" / "artifacts").is_dir()
    uri = f"models:/{settings.mlflow.registered_model}@{CHAMPION}"
    booster = mlflow.xgboost.load_model(uri)
    info = mlflow.models.get_model_info(uri)
    assert [c.name for c in info.signature.inputs.inputs] == booster.feature_names
    (test_split,) = (settings.root / "training" / "2026-01-07").glob("*/test.parquet")
    test = pd.read_parquet(test_split)
    scores = booster.inplace_predict(test[booster.feature_names])
    assert scores.min() > 0 and scores.max() < 1  # probabilities, not labels


def test_references_live_in_the_run_and_a_rerun_never_changes_them(world: Settings) -> None:
    settings = world
    pipeline.run_all(settings, date(2026, 1, 7))
    champion = find_champion(settings)
    with tempfile.TemporaryDirectory() as into:
        before = run_file(settings, champion.run_id, REFERENCE_ARTIFACT, Path(into)).read_bytes()
    reference = reference_frame(settings, champion)
    assert list(reference.columns) == ["policy", "good", "bad", *champion.features]
    assert 0 < len(reference) <= settings.monitoring.sample_size

    again = pipeline.run_all(settings, date(2026, 1, 7))  # the same day: a new run and folder
    assert again["version"] == 2
    assert len(list((settings.root / "training" / "2026-01-07").iterdir())) == 2
    shutil.rmtree(settings.root / "training")  # monitoring needs no training run's folder
    with tempfile.TemporaryDirectory() as into:
        after = run_file(settings, champion.run_id, REFERENCE_ARTIFACT, Path(into)).read_bytes()
    assert after == before
    pd.testing.assert_frame_equal(reference_frame(settings, champion), reference)

    client = connect(settings)
    bare = client.create_run(client.get_run(champion.run_id).info.experiment_id)
    legacy = dataclasses.replace(champion, run_id=bare.info.run_id)
    with pytest.raises(DataError, match=r"has no reference/train_sample\.parquet"):
        reference_frame(settings, legacy)
