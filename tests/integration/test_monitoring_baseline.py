"""The good rate a monitored day is held against: the newest undrifted served days in the lake,
pooled over their impressions."""

from __future__ import annotations

import json
from datetime import timedelta

from engageflow.app.simulate import simulate
from engageflow.settings import Settings
from engageflow.simulator import POLICIES
from engageflow.summary import day_summary
from expectations.ingest import ingest_day
from monitoring.baseline import served_baseline
from monitoring.stored import monitoring_dir


def _monitored(settings: Settings, day, champion: int, drift: bool) -> None:
    folder = monitoring_dir(settings, day)
    folder.mkdir(parents=True, exist_ok=True)
    verdict = {"drift": drift, "reasons": [], "reason": "by hand"}
    (folder / "summary.json").write_text(json.dumps({"champion": champion, "verdict": verdict}))


def _pooled(settings: Settings, days) -> float:
    rows = [day_summary(settings, d) for d in days]
    shown = sum(r["impressions"] for r in rows)
    return sum(r["good_rate"] * r["impressions"] for r in rows) / shown


def _listed(days) -> str:
    return ", ".join(d.isoformat() for d in days)


def test_the_baseline_pools_the_newest_undrifted_days(settings: Settings) -> None:
    days = [done.day for done in simulate(settings, 5, POLICIES["random"])]
    for day in days:
        ingest_day(settings, day)
    assert settings.monitoring.baseline_days == 3
    newest = days[-1]
    assert served_baseline(settings, days[0], 1) is None  # nothing served before the first day

    three = served_baseline(settings, newest, 1)  # nothing monitored yet: the lake's days
    assert three.source == f"served {_listed(days[1:4])}"
    assert abs(three.good_rate - _pooled(settings, days[1:4])) < 1e-12

    _monitored(settings, days[3], champion=1, drift=True)  # an episode is not its own norm
    _monitored(settings, days[2], champion=1, drift=False)
    own = served_baseline(settings, newest, 1)  # the champion's own days come first
    assert own.source == f"served by v1 {days[2]}"
    assert abs(own.good_rate - _pooled(settings, days[2:3])) < 1e-12
    new = served_baseline(settings, newest, 2)  # a new champion: the undrifted days before it
    assert new.source == f"served {_listed(days[:3])}"
    assert abs(new.good_rate - _pooled(settings, days[:3])) < 1e-12

    settings.monitoring.baseline_lookback_days = 2  # only days[3] (drift) and days[2] in reach
    assert served_baseline(settings, newest, 2).source == f"served {days[2]}"
    assert served_baseline(settings, newest + timedelta(days=3), 2) is None  # none in reach
