"""Acting on A/B readouts against a real MLflow registry (SQLite in tmp): promote, roll back,
keep testing, and never act on a readout about another version or twice."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from engageflow.aliases import CHALLENGER, CHAMPION, move_alias, moves
from engageflow.errors import DataError
from engageflow.registry import alias_version, connect
from engageflow.settings import Settings
from monitoring.daily import publish, readout
from monitoring.promotion import act_on_readout
from monitoring.stored import monitoring_dir

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


def _day(settings: Settings, canary_rate: float, canary_version: str = "2") -> dict:
    """A monitored day: 300 users per arm, 20 impressions each, the canary at `canary_rate`."""
    rng = np.random.default_rng(3)
    rows = []
    for arm, rate, version in (("champion", 0.30, "1"), ("canary", canary_rate, canary_version)):
        for u in range(300):
            good = rng.random(20) < rate
            rows += [(f"{arm}{u}", arm, version, bool(g)) for g in good]
    impressions = pd.DataFrame(rows, columns=["user_id", "policy", "model_version", "good"])
    ab = readout(settings, impressions)
    publish(monitoring_dir(settings, DAY), {"ab.json": json.dumps(ab, default=str)})
    return ab


def test_promote_moves_the_challenger_to_champion_once(registry: Settings) -> None:
    assert _day(registry, 0.40)["decision"] == "promote"
    done = act_on_readout(registry, DAY)
    assert done["action"] == "promoted"
    assert alias_version(registry, CHAMPION) == 2
    assert alias_version(registry, CHALLENGER) is None
    last = moves(registry)[-2:]
    assert [(m.alias, m.version, m.kind) for m in last] == [
        (CHAMPION, 2, "ab"),
        (CHALLENGER, None, "retire"),
    ]
    assert last[0].reason.startswith(f"A/B readout {DAY}: canary better")
    assert last[0].actor == "monitor_drift"
    again = act_on_readout(registry, DAY)  # a rerun of the day changes nothing
    assert again["action"] == "none" and alias_version(registry, CHAMPION) == 2


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
