"""Simulated worlds for tests that need the loop's earlier stages done for real."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from small_world import SMALL_WORLD

from engageflow import lake
from engageflow.app.simulate import simulate
from engageflow.settings import Settings
from engageflow.simulator import POLICIES
from feature_repo.backfill import backfill
from feature_repo.materialize import materialize_days
from training.pipeline import run_all


def featured_lake(settings: Settings, days: int) -> Settings:
    """Simulate `days` days, ingest them and build their Feast feature tables."""
    backfill(settings, [done.day for done in simulate(settings, days, POLICIES["random"])])
    return settings


CHAMPION_DAYS = 5


def champion_world(data_dir: Path) -> Settings:
    """Five featured days (1,000 requests each), a champion v1 trained on them, online store
    loaded: what serving and the registry's UIs need."""
    settings = Settings(
        data_dir=data_dir,
        simulation={**SMALL_WORLD, "requests_per_day": 1000},
        training={"train_days": 3, "threads": 1},
    )
    featured_lake(settings, CHAMPION_DAYS)
    first = settings.simulation.start
    trained = run_all(settings, first + timedelta(days=CHAMPION_DAYS - 1))
    assert trained["version"] == 1 and trained["passed"], trained
    materialize_days(settings, [first])
    return settings


def known_users(settings: Settings, n: int) -> list[str]:
    """The first `n` users (by id) with rows in the newest user feature table."""
    day = list(lake.partition_days(settings.root, "features", "user_engagement"))[-1]
    table = lake.read_partition(settings.root, "features", "user_engagement", day)
    return sorted(table.column("user_id").to_pylist())[:n]
