"""Acting on A/B readouts against a real MLflow registry (SQLite in tmp): promote, roll back,
keep testing or keep the champion, never act on a readout about another version or twice; the
readout pools the lake days on which the canary served the challenger."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from engageflow import lake, schema
from engageflow.aliases import CHALLENGER, CHAMPION, STANDBY, move_alias, moves
from engageflow.errors import DataError
from engageflow.registry import alias_version, connect
from engageflow.settings import Settings
from monitoring.ab_window import experiment_window
from monitoring.daily import day_readout, publish, readout
from monitoring.promotion import ROLLED_BACK_TO_STANDBY, act_on_readout
from monitoring.served import day_events, labelled_impressions
from monitoring.stored import monitoring_dir
from monitoring.triggers import decide_training

pytestmark = pytest.mark.integration

DAY = date(2026, 1, 9)


@pytest.fixture
def registry(settings: Settings) -> Settings:
    """Versions 1 (champion) and 2 (challenger) of the registered model, real registry."""
    settings.monitoring.ab_min_users = 50
    client = connect(settings)
    name = settings.mlflow.registered_model
    client.create_registered_model(name)
    for _ in range(2):
        client.create_model_version(name, source=(settings.root / "model").as_uri())
    move_alias(settings, CHAMPION, 1, "gate", "first model", "tests")
    move_alias(settings, CHALLENGER, 2, "register", "retrained", "tests")
    return settings


def _day(settings: Settings, canary_rate: float, canary_version: str = "2", days: int = 1) -> dict:
    """A monitored day: 300 users per arm, 20 impressions each, the canary at `canary_rate`;
    one in twenty impressions is bad in both arms."""
    rng = np.random.default_rng(3)
    rows = []
    for arm, rate, version in (("champion", 0.30, "1"), ("canary", canary_rate, canary_version)):
        for u in range(300):
            draw = rng.random(20)
            rows += [(f"{arm}{u}", arm, version, d < rate, d > 0.95) for d in draw]
    columns = ["user_id", "policy", "model_version", "good", "bad"]
    ab = readout(settings, pd.DataFrame(rows, columns=columns), days)
    publish(monitoring_dir(settings, DAY), {"ab.json": json.dumps(ab, default=str)})
    return ab


def test_promote_moves_the_challenger_to_champion_once_and_the_old_one_stands_by(
    registry: Settings,
) -> None:
    assert _day(registry, 0.40)["decision"] == "promote"
    done = act_on_readout(registry, DAY)
    assert done["action"] == "promoted"
    assert alias_version(registry, CHAMPION) == 2
    # v1 stands by and serves the canary: v2 is held against it on live traffic.
    assert alias_version(registry, STANDBY) == alias_version(registry, CHALLENGER) == 1
    last = moves(registry)[-3:]
    assert [(m.alias, m.version, m.kind) for m in last] == [
        (CHAMPION, 2, "ab"),
        (STANDBY, 1, "standby"),
        (CHALLENGER, 1, "standby"),
    ]
    assert last[0].reason.startswith(f"A/B readout {DAY}: canary better")
    assert last[0].actor == "monitor_drift"
    assert last[2].reason.startswith("v1 stands by: the canary holds v2 against it")
    again = act_on_readout(registry, DAY)  # a rerun of the day changes nothing
    assert again["action"] == "none" and alias_version(registry, CHAMPION) == 2


def test_a_champion_that_falls_behind_its_standby_is_rolled_back_and_retrained(
    registry: Settings,
) -> None:
    _day(registry, 0.40)
    act_on_readout(registry, DAY)  # v2 champion, v1 on standby in the canary
    assert _day(registry, 0.40, canary_version="1")["decision"] == "promote"  # v1 beats v2
    done = act_on_readout(registry, DAY)
    assert done["action"] == ROLLED_BACK_TO_STANDBY
    assert alias_version(registry, CHAMPION) == 1
    assert alias_version(registry, CHALLENGER) is None and alias_version(registry, STANDBY) is None
    back = moves(registry, CHAMPION)[-1]
    assert (back.version, back.previous, back.kind) == (1, 2, "rollback")
    assert back.reason.startswith("v2 fell behind standby v1 on live traffic: A/B readout")
    decision = decide_training(registry, {DAY.isoformat(): {"drift": False}}, [done])
    assert decision == {
        "kind": "rollback",
        "run_id": f"rollback__{DAY}",
        "conf": {"end": DAY.isoformat(), "reason": f"act_on_ab {DAY}: {done['why']}"},
    }
    # Without the fall back, a quiet day triggers nothing.
    assert decide_training(registry, {DAY.isoformat(): {"drift": False}}, []) is None


def test_a_champion_that_holds_its_own_ends_the_guard_test(registry: Settings) -> None:
    _day(registry, 0.40)
    act_on_readout(registry, DAY)
    assert _day(registry, 0.20, canary_version="1")["decision"] == "roll_back"  # v1 worse
    assert act_on_readout(registry, DAY)["action"] == "rolled_back"
    assert alias_version(registry, CHAMPION) == 2
    assert alias_version(registry, CHALLENGER) is None and alias_version(registry, STANDBY) is None


def test_roll_back_removes_the_challenger_only(registry: Settings) -> None:
    assert _day(registry, 0.20)["decision"] == "roll_back"
    assert act_on_readout(registry, DAY)["action"] == "rolled_back"
    assert alias_version(registry, CHALLENGER) is None
    assert alias_version(registry, CHAMPION) == 1
    assert (moves(registry)[-1].alias, moves(registry)[-1].kind) == (CHALLENGER, "ab")


def test_keep_testing_and_stale_readouts_change_nothing(registry: Settings) -> None:
    before = len(moves(registry))
    assert _day(registry, 0.30)["decision"] == "keep_testing"
    assert act_on_readout(registry, DAY)["action"] == "none"
    # A clear win, but measured on version 3, which is not the challenger (2).
    assert _day(registry, 0.40, canary_version="3")["decision"] == "promote"
    stale = act_on_readout(registry, DAY)
    assert stale["action"] == "none" and "not v2" in stale["why"]
    assert (alias_version(registry, CHAMPION), alias_version(registry, CHALLENGER)) == (1, 2)
    assert len(moves(registry)) == before


def test_a_day_without_a_readout_is_refused(registry: Settings) -> None:
    with pytest.raises(DataError, match="monitor the day first"):
        act_on_readout(registry, date(2026, 2, 1))


def test_no_conclusion_by_the_horizon_keeps_the_champion(registry: Settings) -> None:
    horizon = registry.monitoring.ab_max_days
    assert _day(registry, 0.30, days=horizon - 1)["decision"] == "keep_testing"
    ab = _day(registry, 0.30, days=horizon)
    assert ab["decision"] == "keep_champion" and f"after {horizon} days" in ab["reason"]
    done = act_on_readout(registry, DAY)
    assert done["action"] == "kept_champion"
    assert (alias_version(registry, CHAMPION), alias_version(registry, CHALLENGER)) == (1, None)


def _lake_day(settings: Settings, day: date, canary_version: str, users: int = 30) -> None:
    """A day of events in the lake: each user sees 4 items, the first 1 (champion) or 2
    (canary) of them clicked with a long dwell, i.e. good."""
    rows = []
    at = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    for arm, version, clicked in (("champion", "1", 1), ("canary", canary_version, 2)):
        for u in range(users):
            request = f"{day}-{arm}-{u}"
            for i in range(4):
                base = {
                    "ts": at,
                    "user_id": f"{arm}{u}",
                    "item_id": f"i{i}",
                    "request_id": request,
                    "policy": arm,
                    "model_version": version,
                }
                rows.append({**base, "event_id": f"{request}-{i}", "event_type": "impression"})
                if i < clicked:
                    rows.append(
                        {
                            **base,
                            "event_id": f"{request}-{i}c",
                            "event_type": "click",
                            "dwell_seconds": 60.0,
                        }
                    )
    table = pa.Table.from_pylist(rows, schema=schema.EVENTS)
    lake.write_partition(table, settings.root, "lake", "events", day)


def test_the_readout_pools_the_days_the_canary_served_the_challenger(
    registry: Settings,
) -> None:
    days = [DAY - timedelta(n) for n in range(4, -1, -1)]
    _lake_day(registry, days[0], canary_version="2")  # before a gap: not reached
    _lake_day(registry, days[2], canary_version="3")  # another version: not this test
    for day in days[3:]:
        _lake_day(registry, day, canary_version="2")
    today = labelled_impressions(registry, day_events(registry, DAY))
    pooled, pooled_days = experiment_window(registry, DAY, today)
    assert pooled_days == 2 and len(pooled) == 2 * len(today)
    _lake_day(registry, days[2], canary_version="2")  # now the canary served v2 three days
    ab = day_readout(registry, DAY, today)
    assert ab["days"] == 3 and ab["versions"]["canary"] == ["2"]
    assert ab["canary_users"] == 30 and math.isclose(ab["canary_rate"], 0.5)
    assert math.isclose(ab["champion_rate"], 0.25)
    registry.monitoring.ab_max_days = 2  # the window never reaches past the horizon
    assert experiment_window(registry, DAY, today)[1] == 2


def test_without_a_serving_challenger_the_readout_is_the_day_alone(registry: Settings) -> None:
    _lake_day(registry, DAY - timedelta(1), canary_version="2")
    _lake_day(registry, DAY, canary_version="3")
    today = labelled_impressions(registry, day_events(registry, DAY))
    pooled, days = experiment_window(registry, DAY, today)
    assert days == 1 and pooled.equals(today)
