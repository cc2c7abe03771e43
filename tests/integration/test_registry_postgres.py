"""The registry and alias history on a real, throwaway PostgreSQL database (production's store)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from engageflow.aliases import CHAMPION, moves, promote, rollback
from engageflow.registry import alias_version, log_training_run, register
from engageflow.settings import Settings
from tests.unit.synthetic import FEATURES, impressions
from training.train import train_model

pytestmark = pytest.mark.integration
SERVER = "postgresql://postgres@127.0.0.1:5432"


@pytest.fixture
def postgres_settings(settings: Settings) -> Iterator[Settings]:
    name = f"engageflow_train_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    settings.mlflow.tracking_uri = f"{SERVER}/{name}"
    yield settings
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_versions_aliases_and_history_live_in_postgres(postgres_settings: Settings) -> None:
    settings = postgres_settings
    train, valid = impressions(200, 10, seed=1), impressions(200, 10, seed=2)
    trained = train_model(train, valid, FEATURES, settings.training, seed=3)
    reference = settings.root / "reference.parquet"
    settings.root.mkdir(parents=True, exist_ok=True)
    train.to_parquet(reference)
    versions = []
    for _ in range(2):
        run_id, uri = log_training_run(
            settings, trained.booster, {"seed": 3}, {"auc": 0.7}, [], train[FEATURES], {}, reference
        )
        versions.append(register(settings, uri, run_id))
        promote(settings, versions[-1], f"version {versions[-1]} by hand", "tester")
    assert versions == [1, 2]
    assert alias_version(settings, CHAMPION) == 2
    rollback(settings, "regressed", "tester")
    assert alias_version(settings, CHAMPION) == 1
    assert [(m.version, m.kind) for m in moves(settings)] == [
        (1, "manual"),
        (2, "manual"),
        (1, "rollback"),
    ]
    with psycopg.connect(settings.mlflow.tracking_uri) as conn:
        aliases = conn.execute("SELECT alias, version FROM registered_model_aliases").fetchall()
    assert aliases == [("champion", 1)]
    assert (settings.root / "mlflow" / "artifacts").is_dir()
