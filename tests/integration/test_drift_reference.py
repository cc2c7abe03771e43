"""A monitored day is held against the newest served days, with bounds calibrated on them: a
quiet day passes and keeps its sample for later days; a unit change upstream is named."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from small_world import SMALL_WORLD
from worlds import featured_lake

from benchmarks.drift import BROKEN_COLUMN, break_feature
from engageflow.aliases import promote
from engageflow.settings import Settings
from monitoring.calibration import MIN_REFERENCE_DAYS
from monitoring.daily import monitor_day
from monitoring.drift import SAMPLE_FILE, stored_sample
from monitoring.stored import monitoring_dir
from training.pipeline import run_all

DAYS = 9
START = date(2026, 1, 1)
TRAIN_END = START + timedelta(days=5)
QUIET, BROKEN = START + timedelta(days=7), START + timedelta(days=8)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Nine days of random-policy traffic, a champion trained on days 5 and 6 (tested on 6)."""
    root: Path = tmp_path_factory.mktemp("drift-reference") / "data"
    settings = Settings(
        data_dir=root,
        simulation={**SMALL_WORLD, "start": START},
        training={"train_days": 2, "num_boost_round": 40, "threads": 1},
    )
    featured_lake(settings, DAYS)
    trained = run_all(settings, TRAIN_END)
    if not trained["passed"]:  # a tie with popularity on 400 requests a day: crown it anyway
        promote(settings, trained["version"], "drift reference test", "tests")
    return settings


def test_a_quiet_day_is_judged_on_served_days_and_kept_for_later(world: Settings) -> None:
    summary = monitor_day(world, QUIET)
    distances = summary["distances"]
    # Random traffic is all exploration: any earlier day is like for like, newest first.
    served = [QUIET - timedelta(days=d) for d in range(7, 0, -1)]
    assert distances["judged"].startswith(
        "explore rows vs served " + ", ".join(d.isoformat() for d in served)
    )
    columns = distances["columns"]
    assert "score" in columns and len(columns) > 20
    assert all(c["bound"] >= world.monitoring.num_floor for c in columns.values())
    assert summary["verdict"]["drift"] is False, summary["verdict"]["reason"]
    assert summary["values"]["drift"]["DriftedColumnsCount"]["count"] == 0
    kept = stored_sample(world, QUIET, _champion(world))
    assert kept is not None and len(kept) == summary["rows"]["sampled"]
    assert (monitoring_dir(world, QUIET) / SAMPLE_FILE).stat().st_size > 0


def test_a_unit_change_upstream_is_drift_named_with_its_bound(world: Settings) -> None:
    # The item features day BROKEN is served with were computed the day before: in milliseconds.
    break_feature(world, BROKEN - timedelta(days=1))

    summary = monitor_day(world, BROKEN)
    reason = summary["verdict"]["reason"]
    assert summary["verdict"]["drift"] is True
    assert reason.startswith(f"1 features drifted beyond their calibrated bounds: {BROKEN_COLUMN} ")
    assert f"{QUIET.isoformat()}; bounds" in reason  # the quiet day is the newest reference
    measured = summary["distances"]["columns"][BROKEN_COLUMN]
    assert measured["distance"] > 10 * measured["bound"]
    assert f"Value Drift for column {BROKEN_COLUMN}" in summary["failed_tests"]["drift"]


def test_too_few_served_days_are_not_judged(world: Settings) -> None:
    early = START + timedelta(days=MIN_REFERENCE_DAYS - 1)  # days 1 and 2 before it
    summary = monitor_day(world, early)
    assert summary["distances"] == {
        "judged": f"distances not judged: 2 undrifted days with explore rows in the last "
        f"{world.monitoring.baseline_lookback_days} days, {MIN_REFERENCE_DAYS} needed to "
        "calibrate their bounds",
        "columns": {},
    }
    assert "drift" not in summary["values"]  # no drift snapshot on an unjudged day


def _champion(settings: Settings):
    from monitoring.champion import find_champion

    return find_champion(settings)
