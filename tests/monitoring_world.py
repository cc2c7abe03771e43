"""A small simulated world with a champion and drift injected on DRIFT_DAY (shared by suites).

Fifteen days so the champion's training window (days 9-10) lies past the warm-up of the
history features; three of six topics lose appeal from DRIFT_DAY on.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from small_world import SMALL_WORLD

from engageflow.aliases import promote
from engageflow.app.simulate import simulate
from engageflow.settings import Settings
from engageflow.simulator import POLICIES
from feature_repo.backfill import backfill
from training.pipeline import run_all

START = date(2026, 1, 1)
DAYS = 15
DRIFT_DAY = date(2026, 1, 13)
TRAIN_END = DRIFT_DAY - timedelta(days=1)  # the champion's last test day
DRIFTED_TOPICS = (0, 1, 2)
DRIFT_SHIFT = -3.0
# The tests' small world: 4,000 impressions a day keep undrifted days clear of the thresholds.
WORLD = SMALL_WORLD


def dag_env(settings: Settings) -> dict[str, str]:
    """What a DAG run's tasks must see to read this world's settings from the environment."""
    # Monitoring runs on its defaults: drift bounds are calibrated on the world's own days.
    return {"ENGAGEFLOW_DATA_DIR": str(settings.root)}


def world_settings(root: Path) -> Settings:
    drifts = [{"day": DRIFT_DAY, "topic": t, "shift": DRIFT_SHIFT} for t in DRIFTED_TOPICS]
    return Settings(
        data_dir=root,
        simulation={**WORLD, "start": START, "drifts": drifts},
        training={"train_days": 2, "num_boost_round": 60},
        # Windows that fill up before the champion's training days: a 28-day count still grows
        # through a 15-day world, which a drift check rightly flags.
        feast={"windows_days": [1, 3, 7]},
    )


def build_world(settings: Settings) -> int:
    """Simulate, ingest and build features for every day; train and crown a champion."""
    backfill(settings, [done.day for done in simulate(settings, DAYS, POLICIES["random"])])
    result = run_all(settings, TRAIN_END)
    if not result["passed"]:
        # The first model faces the popularity baseline; on 400 requests a day the gate may
        # call it a tie. Monitoring needs a champion either way.
        promote(settings, result["version"], "monitoring test world", "tests")
    return result["version"]
