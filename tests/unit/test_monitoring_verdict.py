"""The drift verdict, the cooldown and the sampling allocation, against values worked by hand."""

from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from engageflow.sampling import allocate, stratified_sample
from engageflow.settings import MonitoringConfig, Settings
from monitoring.stored import monitoring_dir
from monitoring.triggers import (
    BOOTSTRAP_REASON,
    blocking_trigger,
    bootstrap_train_days,
    decide_bootstrap,
    decide_retrain,
    decide_training,
    record_trigger,
    trigger_history,
)
from monitoring.verdict import Observed, drift_verdict, good_rate_drop

CONFIG = MonitoringConfig(good_rate_drop=0.2)
JUDGED = "champion rows vs served 2026-01-01, 2026-01-02, 2026-01-03"


def _observed(good_rate: float | None = 0.5, **distances: tuple[float, float]) -> Observed:
    return Observed(distances, JUDGED, good_rate, 0.5)


def test_quiet_day_is_no_drift() -> None:
    verdict = drift_verdict(_observed(a=(0.2, 0.3), score=(0.05, 0.1)), CONFIG)
    assert verdict.drift is False
    assert verdict.reason() == "no drift"


def test_each_bound_alone_is_drift_and_is_named() -> None:
    feature = drift_verdict(_observed(a=(0.31, 0.3), b=(0.1, 0.3), score=(0.0, 0.1)), CONFIG)
    assert feature.reasons == [
        f"1 features drifted beyond their calibrated bounds: a 0.310 >= 0.300 ({JUDGED})"
    ]
    scores = drift_verdict(_observed(a=(0.0, 0.3), score=(0.125, 0.1)), CONFIG)
    assert scores.reasons == [f"prediction drift 0.125 >= 0.100 ({JUDGED})"]
    # 0.375 is 25% below 0.5: beyond the 20% bound.
    worse = drift_verdict(_observed(0.375), CONFIG)
    assert worse.reasons == [
        "good-engagement rate 0.3750 is 25% below 0.5000 (the reference; bound 20%)"
    ]
    everything = drift_verdict(_observed(0.25, a=(1.0, 0.3), score=(0.2, 0.1)), CONFIG)
    assert len(everything.reasons) == 3


def test_the_furthest_features_are_named_first() -> None:
    many = {f"f{i}": (1.0 + i, 1.0) for i in range(7)}  # f6 is 7x its bound, f0 exactly at it
    reason = drift_verdict(_observed(**many), CONFIG).reasons[0]
    assert reason.startswith("7 features drifted beyond their calibrated bounds: f6 7.000")
    assert "f2 3.000 >= 1.000 and 2 more" in reason
    assert "f0" not in reason and "f1" not in reason


def test_a_segment_beyond_its_bound_is_its_own_reason() -> None:
    segments = {"good_rate[topic=0]": (0.62, 0.35), "good_rate[topic=1]": (0.1, 0.35)}
    verdict = drift_verdict(_observed(**segments, score=(0.01, 0.1)), CONFIG)
    assert verdict.reasons == [
        "good-engagement rate fell beyond its calibrated bound in 1 segments: topic=0 62% "
        f"lower (bound 35%) ({JUDGED})"
    ]


def test_good_rate_drop_by_hand() -> None:
    assert good_rate_drop(0.375, 0.5) == 0.25
    assert good_rate_drop(0.625, 0.5) == -0.25  # better is a negative drop
    assert good_rate_drop(None, 0.5) is None  # labels not there yet
    assert good_rate_drop(0.1, 0.0) is None
    better = drift_verdict(_observed(0.9), CONFIG)
    assert better.drift is False


def test_cooldown_window() -> None:
    jan = [date(2026, 1, d) for d in range(1, 10)]

    def history(*days: date, kind: str = "drift") -> list[dict]:
        return [{"day": d.isoformat(), "kind": kind} for d in days]

    assert blocking_trigger(jan[4], history(jan[2]), 3) == jan[2]  # 2 days after: blocked
    assert blocking_trigger(jan[5], history(jan[2]), 3) is None  # 3 days after: a new episode
    assert blocking_trigger(jan[2], history(jan[2]), 3) == jan[2]  # a rerun of the same end
    assert blocking_trigger(jan[1], history(jan[2]), 3) == jan[2]  # a later one learned more
    assert blocking_trigger(jan[2], history(jan[2]), 0) == jan[2]  # a rerun, even without one
    assert blocking_trigger(jan[3], history(jan[2]), 0) is None  # no cooldown
    # A first model trained before the drift knew nothing of it: it does not block ...
    assert blocking_trigger(jan[4], history(jan[2], kind="bootstrap"), 3) is None
    # ... but one trained after the drifted day did.
    assert blocking_trigger(jan[4], history(jan[5], kind="bootstrap"), 3) == jan[5]


def test_a_drifted_day_retrains_the_day_after_so_it_is_learned_from(settings: Settings) -> None:
    drift = {"drift": True, "reason": "4 features drifted"}
    quiet = {"drift": False, "reason": "no drift"}
    assert settings.training.test_days == 1
    assert decide_retrain(settings, {"2026-01-05": quiet}) is None
    assert decide_retrain(settings, {"2026-01-05": drift}) is None  # not on the drifted day
    conf = decide_retrain(settings, {"2026-01-04": drift, "2026-01-05": quiet})
    assert conf == {
        "end": "2026-01-05",
        "reason": "monitor_drift 2026-01-04: 4 features drifted (retrained on 2026-01-05, so "
        "that 2026-01-04 is in the training data)",
    }
    record_trigger(settings, conf, "drift__2026-01-05")
    assert [(r["day"], r["run_id"]) for r in trigger_history(settings)] == [
        ("2026-01-05", "drift__2026-01-05")
    ]
    cooldown = settings.monitoring.cooldown_days
    assert decide_retrain(settings, {"2026-01-05": drift, "2026-01-06": drift}) is None
    later = date(2026, 1, 5) + timedelta(days=cooldown)
    again = {(later - timedelta(days=1)).isoformat(): drift, later.isoformat(): drift}
    assert decide_retrain(settings, again)["end"] == later.isoformat()


def test_the_drifted_day_may_come_from_its_stored_summary(settings: Settings) -> None:
    folder = monitoring_dir(settings, date(2026, 1, 4))
    folder.mkdir(parents=True)
    verdict = {"drift": True, "reasons": ["x"], "reason": "good rate fell"}
    (folder / "summary.json").write_text(json.dumps({"verdict": verdict}))
    conf = decide_retrain(settings, {"2026-01-05": {"drift": False, "reason": "no drift"}})
    assert conf is not None and conf["end"] == "2026-01-05"
    assert conf["reason"].startswith("monitor_drift 2026-01-04: good rate fell")


@pytest.mark.parametrize(
    ("counts", "size", "expected"),
    [
        ({"a": 900, "b": 90, "c": 10}, 100, [90, 9, 1]),
        ({"a": 5, "b": 3, "c": 2}, 5, [3, 1, 1]),  # remainders .5, .5, 0: first in order wins
        ({"a": 999, "b": 1}, 10, [9, 1]),  # a tiny stratum keeps one row
        ({"a": 4, "b": 2}, 10, [4, 2]),  # smaller than the sample: everything
    ],
)
def test_allocation_by_hand(counts: dict, size: int, expected: list[int]) -> None:
    assert allocate(pd.Series(counts), size).tolist() == expected


def test_stratified_sample_is_fixed_size_seeded_and_keeps_every_policy() -> None:
    policy = np.repeat(["champion", "canary", "explore"], [9000, 900, 100])
    frame = pd.DataFrame({"policy": policy, "x": np.arange(len(policy))})
    first = stratified_sample(frame, "policy", 1000, seed=3)
    assert len(first) == 1000
    assert first["policy"].value_counts().to_dict() == {
        "champion": 900,
        "canary": 90,
        "explore": 10,
    }
    assert first["x"].tolist() == stratified_sample(frame, "policy", 1000, seed=3)["x"].tolist()
    assert first["x"].tolist() != stratified_sample(frame, "policy", 1000, seed=4)["x"].tolist()
    assert first["x"].is_unique


def _lake_days(settings: Settings, *days: int) -> None:
    for d in days:
        folder = settings.root / "lake" / "events" / f"date=2026-01-{d:02d}"
        folder.mkdir(parents=True)
        (folder / "part.parquet").touch()  # a day counts once a file is visible


def test_bootstrap_waits_for_a_window_with_one_train_day(settings: Settings) -> None:
    settings.training.train_days, settings.training.validation_days = 4, 2  # test_days 1
    _lake_days(settings, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12)
    assert bootstrap_train_days(settings, date(2026, 1, 3)) is None  # 3 days: no train day
    assert bootstrap_train_days(settings, date(2026, 1, 4)) is None  # not in the lake
    assert bootstrap_train_days(settings, date(2026, 1, 8)) is None  # the 5th has no history
    assert bootstrap_train_days(settings, date(2026, 1, 9)) == 1
    assert bootstrap_train_days(settings, date(2026, 1, 11)) == 3
    assert bootstrap_train_days(settings, date(2026, 1, 12)) == 4  # never past train_days
    conf = decide_bootstrap(settings, date(2026, 1, 10))
    assert conf == {"end": "2026-01-10", "reason": BOOTSTRAP_REASON, "train_days": 2}
    assert decide_bootstrap(settings, date(2026, 1, 7)) is None


def test_training_decisions_bootstrap_without_a_champion(settings: Settings) -> None:
    _lake_days(settings, 1, 2, 3, 4, 5)
    drift = {"drift": True, "reason": "4 features drifted"}
    quiet = {"drift": False, "reason": "no champion yet"}
    assert decide_training(settings, {}) is None
    first = decide_training(settings, {"2026-01-02": quiet})
    assert first is None  # two days: validation and test, nothing to train on
    assert decide_training(settings, {"2026-01-03": quiet}) is None  # day one has no history
    decision = decide_training(settings, {"2026-01-03": quiet, "2026-01-04": quiet})
    assert decision == {
        "kind": "bootstrap",
        "run_id": "bootstrap__2026-01-04",
        "conf": {"end": "2026-01-04", "reason": BOOTSTRAP_REASON, "train_days": 1},
    }
    record_trigger(settings, decision["conf"], decision["run_id"], decision["kind"])
    [record] = trigger_history(settings)
    assert (record["kind"], record["run_id"]) == ("bootstrap", "bootstrap__2026-01-04")
    # No cooldown before the first champion: the next day may bootstrap again.
    assert decide_training(settings, {"2026-01-04": drift})["kind"] == "bootstrap"
