"""Ranking groups: requests when they hold slates, else sessions cut at a pause."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engageflow.settings import TrainingConfig
from training.groups import group_codes, rankable_groups, resolve

START = pd.Timestamp("2026-01-01 08:00", tz="UTC")


def log(minutes: list[float], users: list[str], requests: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ts": [START + pd.Timedelta(minutes=m) for m in minutes],
            "user_id": users,
            "request_id": requests,
        }
    )


def test_sessions_are_cut_at_the_pause_per_user_whatever_the_row_order() -> None:
    frame = log(
        [0, 50, 10, 5, 41, 20],
        ["a", "a", "a", "b", "a", "b"],
        ["r1", "r2", "r3", "r4", "r5", "r6"],
    )
    codes = group_codes(frame, "session", TrainingConfig(session_gap_minutes=30))
    # a: 0, 10 | 41, 50 (31 minutes apart); b: 5, 20
    assert codes[0] == codes[2] and codes[4] == codes[1] and codes[3] == codes[5]
    assert len({codes[0], codes[4], codes[3]}) == 3
    longer = group_codes(frame, "session", TrainingConfig(session_gap_minutes=45))
    assert longer[0] == longer[4] == longer[1]


def test_auto_groups_by_request_only_when_requests_hold_slates() -> None:
    config = TrainingConfig()
    one_each = log([0, 1, 2, 3], ["a", "a", "b", "b"], ["r1", "r2", "r3", "r4"])
    slates = log([0, 0, 1, 1], ["a", "a", "b", "b"], ["r1", "r1", "r2", "r2"])
    assert resolve(one_each, config) == "session"
    assert resolve(slates, config) == "request"
    assert resolve(one_each, TrainingConfig(group_by="request")) == "request"
    np.testing.assert_array_equal(group_codes(slates, "request", config), [0, 0, 1, 1])


def test_only_groups_with_a_good_and_another_item_are_rankable() -> None:
    groups = np.array([0, 0, 1, 1, 2, 3, 3])
    good = np.array([1, 0, 1, 1, 1, 0, 0])
    assert rankable_groups(good, groups) == 1  # group 0; 1 all good, 2 alone, 3 none good
