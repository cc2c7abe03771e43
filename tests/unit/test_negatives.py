"""Sampled negatives for logs that record only engagements (training/negatives.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from training.negatives import records_only_engagements, with_sampled_negatives


def _ratings(users: int, per_user: int) -> pd.DataFrame:
    """A ratings day: every impression clicked, a third of them good."""
    rows = [
        (f"u{u}", f"i{(u * 7 + k) % 40}", k % 3 == 0) for u in range(users) for k in range(per_user)
    ]
    users_, items, good = zip(*rows, strict=True)
    n = len(rows)
    return pd.DataFrame(
        {
            "request_id": [f"r{k}" for k in range(n)],
            "item_id": list(items),
            "event_id": [f"e{k}" for k in range(n)],
            "ts": pd.Timestamp("2026-01-01T10:00:00Z"),
            "user_id": list(users_),
            "position": pd.array([None] * n, dtype="Int16"),
            "propensity": np.nan,
            "clicked": True,
            "liked": list(good),
            "shared": False,
            "hidden": False,
            "reported": False,
            "dwell_seconds": np.nan,
            "good": list(good),
            "bad": False,
        }
    )


def test_only_a_log_of_engagements_gets_negatives() -> None:
    ratings = _ratings(10, 5)
    assert records_only_engagements(ratings)
    feed = ratings.assign(clicked=[k % 10 == 0 for k in range(len(ratings))])
    assert not records_only_engagements(feed)
    assert not records_only_engagements(ratings.iloc[:0])


def test_each_impression_gets_unengaged_items_in_its_request() -> None:
    ratings = _ratings(10, 5)
    catalog = np.array([f"i{k}" for k in range(40)])
    out = with_sampled_negatives(ratings, catalog, per_impression=4, seed=3)
    sampled = out.iloc[len(ratings) :]
    assert 0.8 * 4 * len(ratings) <= len(sampled) <= 4 * len(ratings)  # collisions dropped
    engaged = set(zip(ratings["user_id"], ratings["item_id"], strict=True))
    assert not any(
        pair in engaged for pair in zip(sampled["user_id"], sampled["item_id"], strict=True)
    )
    assert not sampled[["clicked", "good", "bad", "liked"]].to_numpy().any()
    assert set(sampled["request_id"]) <= set(ratings["request_id"])
    assert not out.duplicated(["request_id", "item_id"]).any()
    assert sampled["event_id"].str.endswith("-sampled").all()
    again = with_sampled_negatives(ratings, catalog, per_impression=4, seed=3)
    pd.testing.assert_frame_equal(out, again)
    assert with_sampled_negatives(ratings, catalog, per_impression=0, seed=3) is ratings
