"""Simulated worlds for tests that need the loop's earlier stages done for real."""

from __future__ import annotations

from engageflow.settings import Settings
from engageflow.simulator import POLICIES, simulate
from feature_repo.backfill import backfill


def featured_lake(settings: Settings, days: int) -> Settings:
    """Simulate `days` days, ingest them and build their Feast feature tables."""
    backfill(settings, [done.day for done in simulate(settings, days, POLICIES["random"])])
    return settings
