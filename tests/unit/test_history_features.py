"""Long-horizon profiles: decayed lifetime sums carried day to day (feature_repo/transforms)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from feature_repo.transforms.history import decayed_history

DAY = timedelta(days=1)
START = datetime(2026, 1, 1, tzinfo=UTC)


def _impressions(rows: list[tuple[str, datetime, bool]]) -> pd.DataFrame:
    """(user, time, good) impressions; every good one was clicked, none was bad."""
    users, ts, good = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "user_id": list(users),
            "ts": pd.to_datetime(list(ts), utc=True),
            "clicked": list(good),
            "good": list(good),
            "bad": [False] * len(rows),
        }
    )


def _history(previous, rows, end, prior=0.0) -> pd.DataFrame:
    labelled = _impressions(rows) if rows else _impressions([("x", START, False)]).iloc[:0]
    return decayed_history(previous, labelled, "user_id", end, 30.0, prior).set_index("user_id")


def test_carrying_yesterday_forward_equals_folding_every_impression_at_once() -> None:
    day1 = [("a", START + timedelta(hours=3), True), ("b", START + timedelta(hours=20), False)]
    day2 = [("a", START + DAY + timedelta(hours=5), False)]
    first = _history(None, day1, START + DAY, prior=5).reset_index()
    carried = _history(first, day2, START + 2 * DAY, prior=5)
    at_once = _history(None, day1 + day2, START + 2 * DAY, prior=5)
    pd.testing.assert_frame_equal(carried, at_once, rtol=1e-6)
    # a: shown 3 h into day 1 (45 h before the end) and 19 h before it, half-life 30 days
    expected = 0.5 ** (45 / 24 / 30) + 0.5 ** (19 / 24 / 30)
    assert np.isclose(carried.loc["a", "user_lt_impressions"], expected, rtol=1e-6)


def test_a_user_keeps_a_row_through_a_60_day_pause() -> None:
    table = _history(None, [("a", START, True), ("a", START, False)], START + DAY).reset_index()
    for day in range(2, 62):
        table = _history(table, [("b", START + (day - 1) * DAY, True)], START + day * DAY)
        table = table.reset_index()
    row = table.set_index("user_id").loc["a"]
    assert np.isclose(row["user_lt_impressions"], 2 * 0.5 ** (61 / 30), rtol=1e-5)
    assert np.isclose(row["user_lt_good_rate"], 0.5)  # rates do not fade with the sums
    assert np.isclose(row["user_lt_days_since_seen"], 61)
    assert row["event_timestamp"] == pd.Timestamp(START + 61 * DAY)


def test_rates_of_a_rarely_seen_user_are_shrunk_toward_everyones() -> None:
    rows = [("seen_once", START, True)] + [("often", START, k % 4 == 0) for k in range(400)]
    table = _history(None, rows, START + DAY, prior=20)
    overall = 101 / 401
    once = table.loc["seen_once", "user_lt_good_rate"]
    assert overall < once < 0.5  # one good impression is weak evidence
    assert abs(table.loc["often", "user_lt_good_rate"] - 0.25) < 0.01
