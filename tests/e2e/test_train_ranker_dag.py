"""Real `train_ranker` runs: the first model beats popularity and is promoted; a model trained on
deliberately broken features is registered but refused: the champion stays, and the refused
version gets no alias."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from worlds import featured_lake

from engageflow.aliases import CHALLENGER, CHAMPION, moves
from engageflow.registry import alias_version, connect
from engageflow.settings import Settings


@pytest.fixture
def world(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    # DAG tasks read settings from the environment, like any Airflow worker.
    for name, value in {"TRAIN_DAYS": "4", "THREADS": "1"}.items():
        monkeypatch.setenv(f"ENGAGEFLOW_TRAINING__{name}", value)
    settings.training.train_days, settings.training.threads = 4, 1
    settings.simulation.requests_per_day = 2_000
    return featured_lake(settings, 7)


def _run(dagbag, conf: dict) -> str:
    dag = dagbag.get_dag("train_ranker")
    # `end` named as unset: an earlier dag.test in the session (test_monitor_drift_dag) leaves
    # its conf's end behind as this DAG's default; the day must come from the data interval.
    conf = {"end": None, **conf}
    return dag.test(logical_date=datetime(2026, 1, 8, tzinfo=UTC), run_conf=conf).state


def test_train_register_promote_then_refuse_a_broken_model(dagbag, world: Settings) -> None:
    assert _run(dagbag, {"reason": "first model"}) == "success"
    assert alias_version(world, CHAMPION) == 1
    run = connect(world).get_run(
        connect(world).get_model_version(world.mlflow.registered_model, "1").run_id
    )
    assert run.data.params["feature_service"] == "ranker_v1"
    assert run.data.params["window.test_end"] == "2026-01-07"
    assert run.data.tags["trigger_reason"] == "first model"
    assert run.data.metrics["position_auc"] > run.data.metrics["popularity.position_auc"]

    assert _run(dagbag, {"reason": "broken on purpose", "broken_features": "*"}) == "success"
    tags = connect(world).get_model_version(world.mlflow.registered_model, "2").tags
    assert tags["gate"].startswith("refused")  # registered, refused by the gate ...
    assert alias_version(world, CHAMPION) == 1  # ... so the champion stays
    assert alias_version(world, CHALLENGER) is None  # and v2 never serves, not even the canary
    kinds = [(m.alias, m.kind, m.version) for m in moves(world)]
    assert kinds == [("champion", "gate", 1)]
