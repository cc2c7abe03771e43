"""Real runs of `monitor_drift` on a world with drift injected on DRIFT_DAY: the day before
passes, the drifted day is flagged, the day after triggers train_ranker once (so the drifted day
is in its training data), the next day stays in the cooldown."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from monitoring_world import DRIFT_DAY, dag_env

from engageflow.settings import Settings
from monitoring.triggers import TRAIN_DAG, run_id_for, trigger_history


@pytest.fixture
def train_ranker(dagbag) -> str:
    """The trigger's target, registered in the Airflow DB as a DAG processor would."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import sync_bag_to_db

    assert TRAIN_DAG in dagbag.dag_ids
    DagBundlesManager().sync_bundles_to_db()  # the bundle row the DAG row refers to
    sync_bag_to_db(dagbag, "dags-folder", None)
    return TRAIN_DAG


def _train_runs(dag_id: str) -> dict[str, dict]:
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        runs = session.query(DagRun).filter(DagRun.dag_id == dag_id).all()
        return {run.run_id: dict(run.conf or {}) for run in runs}


def _monitor(dagbag, day: date) -> str:
    return dagbag.get_dag("monitor_drift").test(run_conf={"day": day.isoformat()}).state


def _summary(settings: Settings, day: date) -> dict:
    return json.loads((settings.root / "monitoring" / f"date={day}" / "summary.json").read_text())


def test_drift_triggers_one_retrain_per_episode(
    dagbag, drift_world, train_ranker, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, champion = drift_world
    for name, value in dag_env(settings).items():
        monkeypatch.setenv(name, value)
    before, hit, after, later = (DRIFT_DAY + timedelta(days=d) for d in (-1, 0, 1, 2))

    assert _monitor(dagbag, before) == "success"
    quiet = _summary(settings, before)
    assert quiet["champion"] == champion
    assert quiet["verdict"]["drift"] is False, quiet["verdict"]
    # Random traffic is all exploration: judged against the days before, bounds calibrated.
    assert quiet["distances"]["judged"].startswith("explore rows vs served ")
    assert quiet["values"]["drift"]["DriftedColumnsCount"]["count"] == 0
    assert run_id_for(before.isoformat()) not in _train_runs(train_ranker)
    assert trigger_history(settings) == []

    assert _monitor(dagbag, hit) == "success"
    flagged = _summary(settings, hit)
    assert flagged["verdict"]["drift"] is True
    # The drifted topics' good rate fell beyond its calibrated bound on the day itself.
    assert "good-engagement rate fell beyond its calibrated bound" in flagged["verdict"]["reason"]
    assert "topic=0" in flagged["verdict"]["reason"]
    # Held against the served days before it, which the drift had not reached yet.
    assert flagged["good_rate"]["of"].startswith("served ")
    assert str(before) in flagged["good_rate"]["of"]
    assert flagged["good_rate"]["day"] < flagged["good_rate"]["reference"]
    assert trigger_history(settings) == []  # a retrain now would not learn from the drift

    assert _monitor(dagbag, after) == "success"
    runs = _train_runs(train_ranker)
    conf = runs[run_id_for(after.isoformat())]
    assert conf["end"] == after.isoformat()  # the drifted day is its newest validation day
    assert flagged["verdict"]["reason"] in conf["reason"]
    assert [r["day"] for r in trigger_history(settings)] == [after.isoformat()]
    # The drifted day is no baseline: the next day is still held against the days before it.
    assert str(hit) not in _summary(settings, after)["good_rate"]["of"]

    assert _monitor(dagbag, later) == "success"
    assert _summary(settings, later)["verdict"]["drift"] is True  # still drifted ...
    assert run_id_for(later.isoformat()) not in _train_runs(train_ranker)  # ... but cooling down
    assert len(trigger_history(settings)) == 1
    assert (settings.root / "monitoring" / f"date={hit}" / "drift.html").stat().st_size > 0


def test_without_a_champion_monitoring_bootstraps_the_first_model(
    dagbag, settings: Settings, train_ranker
) -> None:
    from worlds import featured_lake

    from engageflow.aliases import CHALLENGER, CHAMPION
    from engageflow.registry import alias_version
    from monitoring.triggers import BOOTSTRAP_REASON

    # Validation and test take a day each, day one has no feature history: one day to train.
    featured_lake(settings, 4)
    second, third = date(2026, 1, 3), date(2026, 1, 4)

    assert _monitor(dagbag, second) == "success"
    summary = _summary(settings, second)
    assert summary["champion"] is None and summary["verdict"]["drift"] is False
    assert summary["ab"]["decision"] == "keep_testing"
    assert run_id_for(second.isoformat(), "bootstrap") not in _train_runs(train_ranker)
    assert trigger_history(settings) == []  # no day with history left to train on yet

    assert _monitor(dagbag, third) == "success"
    conf = _train_runs(train_ranker)[run_id_for(third.isoformat(), "bootstrap")]
    assert conf == {"end": third.isoformat(), "reason": BOOTSTRAP_REASON, "train_days": 1}
    [record] = trigger_history(settings)
    assert (record["day"], record["kind"]) == (third.isoformat(), "bootstrap")

    # The triggered conf is one train_ranker accepts: the first model trains on day two.
    trained = dagbag.get_dag(train_ranker).test(run_conf=conf)
    assert trained.state == "success"
    assert {alias_version(settings, CHAMPION), alias_version(settings, CHALLENGER)} - {None} == {1}
