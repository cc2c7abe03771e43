"""The closed loop for real: the local stack, Airflow's scheduler and assets, nine simulated days.

Slates come from the running BentoML service; the days flow through ingest, features and
monitoring without hand triggers; the first champion is trained once enough days exist; the
drift in the middle is detected on its day (the good-engagement rate falls below the days the
champion served before), a retrain is triggered the day after (so the drifted day is in its
training data), passes the gate and serves; the good-engagement rate recovers. Everything is
asserted from the lake and the registry."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engageflow import lake, schema
from engageflow.app.demo import demo_overrides
from engageflow.settings import Settings

pytestmark = [pytest.mark.loop, pytest.mark.timeout(3000)]

# The drift on day 6, after a first champion has served a day; its retrain on day 7; two days
# served by the retrained model.
DAYS = 9


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory):
    """Run the loop once for every test here: (settings, day reports)."""
    from dags.support.rest import AirflowClient
    from engageflow.app import stack
    from engageflow.app.loop import run_loop
    from serving.launch import free_port

    overrides = demo_overrides(Settings().simulation.start, DAYS)  # the demo's world
    overrides["airflow"]["port"] = free_port()
    overrides["monitoring"]["ui_port"] = free_port()
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("loop") / "data",
        mlflow={"port": free_port()},
        serving={"port": free_port(), "reload_interval_seconds": 1.0},
        **overrides,
    )
    stack.up(settings)
    try:
        client = AirflowClient.from_settings(settings)
        start = settings.simulation.start
        reports = run_loop(settings, client, [start + timedelta(days=i) for i in range(DAYS)])
        yield settings, reports
    finally:
        stack.down(settings)


def drift_index(settings: Settings) -> int:
    return (settings.simulation.drifts[0].day - settings.simulation.start).days


def served_versions(settings: Settings, day) -> set[str]:
    table = lake.read_partition(settings.root, "lake", "predictions", day, schema.PREDICTIONS)
    frame = table.to_pandas()
    return set(frame.loc[frame["policy"] == "champion", "model_version"].dropna())


def test_a_first_champion_is_trained_before_the_drift(loop) -> None:
    settings, reports = loop
    first = next(i for i, r in enumerate(reports) if r.champion is not None)
    config = settings.training
    # Not before one train day with feature history, validation and test fit; monitor_drift
    # bootstraps each day from then until a model passes the gate.
    assert 1 + config.validation_days + config.test_days <= first < drift_index(settings)
    assert reports[first].retrain is not None and reports[first].retrain.startswith("bootstrap")
    assert reports[first].auc is not None and reports[first].auc > 0.5


def test_the_drift_is_detected_and_only_then(loop) -> None:
    settings, reports = loop
    drift = drift_index(settings)
    monitored_before = [r.drift for r in reports[:drift] if r.drift is not None]
    assert monitored_before and not any(monitored_before)
    assert reports[drift].drift is True
    retrains = [i for i, r in enumerate(reports) if (r.retrain or "").startswith("drift")]
    # The day after: the drifted day is then the retrain's newest validation day.
    assert retrains == [drift + 1]


def test_the_retrained_model_passes_the_gate_and_serves(loop) -> None:
    from engageflow.aliases import moves

    settings, reports = loop
    drift = drift_index(settings)
    before, after = reports[drift].champion, reports[drift + 1].champion
    assert before is not None and after is not None and after > before
    crowned = [m for m in moves(settings, "champion") if m.version == after]
    assert crowned and crowned[-1].kind == "gate" and crowned[-1].previous == before
    for report in reports[drift + 2 :]:
        assert served_versions(settings, report.day) == {str(after)}


def test_good_engagement_recovers_after_the_retrain(loop) -> None:
    settings, reports = loop
    drift = drift_index(settings)
    hit = reports[drift].good_rate
    recovered = [r.good_rate for r in reports[drift + 2 :]]
    assert len(recovered) >= 2
    assert hit < reports[drift - 1].good_rate
    assert min(recovered) > hit
