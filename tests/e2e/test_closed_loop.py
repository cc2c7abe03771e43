"""The closed loop for real: the local stack, Airflow's scheduler and assets, nine simulated days.

Slates come from the running BentoML service; the days flow through ingest, features and
monitoring without hand triggers; the first champion is trained once enough days exist; the
drift in the middle is detected on its day (the good-engagement rate falls below the days the
champion served before), a retrain is triggered the day after (so the drifted day is in its
training data), passes the gate and becomes the challenger; the canary serves it beside the
champion, the daily A/B readout judges it, and its slates recover good engagement. Everything
is asserted from the lake and the registry."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engageflow.app.demo import demo_overrides
from engageflow.settings import Settings

pytestmark = [pytest.mark.loop, pytest.mark.timeout(3000)]

# The drift on day 6, after a first champion has served a day; its retrain on day 7; two days
# served by the retrained model (the canary, until the A/B readout decides).
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
    overrides["monitoring"] = {"ui_port": free_port()}
    overrides["serving"].update(port=free_port(), reload_interval_seconds=1.0)
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("loop") / "data",
        mlflow={"port": free_port()},
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


def good_rate_by_version(settings: Settings, day) -> dict[str, float]:
    """The day's good-engagement rate of the slates each model version served."""
    from monitoring.served import day_events, labelled_impressions

    shown = labelled_impressions(settings, day_events(settings, day)).dropna(
        subset=["model_version"]
    )
    return shown.groupby(shown["model_version"].astype(str))["good"].mean().to_dict()


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


def test_the_retrain_passes_the_gate_as_challenger_and_the_canary_serves_it(loop) -> None:
    from engageflow.aliases import moves

    settings, reports = loop
    drift = drift_index(settings)
    champion, retrained = reports[drift].champion, reports[drift + 1].challenger
    assert champion is not None and retrained is not None and retrained > champion
    [passed] = [m for m in moves(settings, "challenger") if m.version == retrained]
    assert passed.kind == "gate" and passed.reason.startswith(f"passed vs champion v{champion}")
    # Never straight to champion: only the A/B readout may crown it.
    crowned = [m for m in moves(settings, "champion") if m.version == retrained]
    assert all(m.kind == "ab" for m in crowned), crowned
    for report in reports[drift + 2 :]:
        assert str(retrained) in good_rate_by_version(settings, report.day)
        assert report.ab is not None or report.champion == retrained, report


def test_the_retrained_model_recovers_good_engagement(loop) -> None:
    settings, reports = loop
    drift = drift_index(settings)
    hit, retrained = reports[drift].good_rate, str(reports[drift + 1].challenger)
    assert hit < reports[drift - 1].good_rate
    served = [good_rate_by_version(settings, r.day) for r in reports[drift + 2 :]]
    assert len(served) >= 2
    assert min(rates[retrained] for rates in served) > hit, served


def test_the_ab_readout_pools_the_canary_days_against_the_champion(loop) -> None:
    """Each day the canary served the challenger adds a day to the same test. In this world
    the drifted champion recovers through its online features as fast as the retrain does, so
    no difference is expected; whatever the readout decides, it decides on the pooled days."""
    from monitoring.promotion import read_readout

    settings, reports = loop
    drift = drift_index(settings)
    champion, retrained = reports[drift].champion, reports[drift + 1].challenger
    for day, report in enumerate(reports[drift + 2 :], start=1):
        readout = read_readout(settings, report.day)
        assert readout["days"] == day
        assert readout["versions"] == {"canary": [str(retrained)], "champion": [str(champion)]}
        assert readout["canary_users"] > 0 and readout["champion_users"] > 0
        if readout["decision"] != "keep_testing":  # acted on: the test is over
            break
