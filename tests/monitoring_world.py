"""A small simulated world with a champion and drift injected on DRIFT_DAY (shared by suites).

Fifteen days so the champion's training window (days 9-10) lies past the warm-up of the
history features; three of six topics lose appeal from DRIFT_DAY on.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from engageflow.ingest import ingest_catalog, ingest_events
from engageflow.settings import Settings
from engageflow.simulator import POLICIES, simulate
from feature_repo.apply import apply_if_changed
from feature_repo.offline import build_offline
from training.history import promote
from training.pipeline import run_all

START = date(2026, 1, 1)
DAYS = 15
DRIFT_DAY = date(2026, 1, 13)
TRAIN_END = DRIFT_DAY - timedelta(days=1)  # the champion's last test day
DRIFTED_TOPICS = (0, 1, 2)
DRIFT_SHIFT = -3.0
# About the size of tests/conftest.py's world: 4,000 impressions a day keep the verdicts of
# undrifted days clear of the thresholds.
WORLD = {
    "users": 600,
    "items": 300,
    "topics": 6,
    "creators": 40,
    "new_items_per_day": 20,
    "new_users_per_day": 30,
    "requests_per_day": 400,
    "candidates": 30,
    "slate_size": 10,
}


def world_settings(root: Path) -> Settings:
    drifts = [{"day": DRIFT_DAY, "topic": t, "shift": DRIFT_SHIFT} for t in DRIFTED_TOPICS]
    return Settings(
        data_dir=root,
        simulation={**WORLD, "start": START, "drifts": drifts},
        training={"train_days": 2, "num_boost_round": 60},
    )


def build_world(settings: Settings) -> int:
    """Simulate, ingest and build features for every day; train and crown a champion."""
    for done in simulate(settings, DAYS, POLICIES["random"]):
        ingest_catalog(settings, done.day)
        ingest_events(settings, done.day)
        build_offline(settings, done.day)
    apply_if_changed(settings)
    result = run_all(settings, TRAIN_END)
    if not result["promote"]:
        # The first model faces the popularity baseline; on 400 requests a day the gate may
        # call it a tie. Monitoring needs a champion either way.
        promote(settings, result["version"], "monitoring test world", "tests")
    return result["version"]
