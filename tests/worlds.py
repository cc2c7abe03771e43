"""Simulated worlds for tests that need the loop's earlier stages done for real."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from small_world import SMALL_WORLD

from engageflow.settings import Settings
from engageflow.simulator import POLICIES, simulate
from feature_repo.backfill import backfill


def featured_lake(settings: Settings, days: int) -> Settings:
    """Simulate `days` days, ingest them and build their Feast feature tables."""
    backfill(settings, [done.day for done in simulate(settings, days, POLICIES["random"])])
    return settings


def served_world(root: Path, days: int = 5) -> Settings:
    """A small world with a champion (v1) trained on its `days` days, the first day online.

    What the serving tests rank against: a real MLflow registry (SQLite) and Feast SQLite.
    """
    from feature_repo.materialize import materialize_days
    from training.pipeline import run_all

    settings = Settings(
        data_dir=root / "data",
        simulation={**SMALL_WORLD, "requests_per_day": 1000},
        training={"train_days": 3, "threads": 1},
    )
    featured_lake(settings, days)
    first = settings.simulation.start
    assert run_all(settings, first + timedelta(days=days - 1))["version"] == 1
    materialize_days(settings, [first])
    return settings


def known_users(settings: Settings, n: int) -> list[str]:
    """`n` users with online features (rows in the newest user_engagement partition)."""
    from engageflow import lake

    day = list(lake.partition_days(settings.root, "features", "user_engagement"))[-1]
    table = lake.read_partition(settings.root, "features", "user_engagement", day)
    return sorted(table.column("user_id").to_pylist())[:n]
