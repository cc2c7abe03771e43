"""Item gathering, request limits and request time for /rank, on hand-made tables."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import numpy as np
import pytest

from engageflow.settings import ServingConfig
from serving.engine import BadRankRequest, check_limits, request_time
from serving.features import gather_items, missing_ids, snapshot_hash
from serving.online_rows import ItemTable, as_floats
from serving.schemas import RankRequest

NAN = np.nan


def _table(rows: dict[str, tuple[float, float, int | None]]) -> ItemTable:
    """Items with two model features and one on-demand input (`topic`), plus the cold row."""
    matrix = np.array([[a, b] for a, b, _ in rows.values()] + [[NAN, NAN]], dtype=np.float32)
    topics = [topic for _, _, topic in rows.values()] + [None]
    return ItemTable(
        {k: i for i, k in enumerate(rows)}, matrix, {"topic": topics}, time.monotonic()
    )


CACHE = _table({"a": (1.0, 10.0, 3), "b": (2.0, 20.0, 4)})


def test_gather_takes_cached_rows_in_candidate_order_and_cold_starts_the_rest() -> None:
    got = gather_items(CACHE, ["b", "new", "a"])
    np.testing.assert_array_equal(got.matrix, [[2, 20], [NAN, NAN], [1, 10]])
    assert got.inputs == {"topic": [4, None, 3]}
    assert got.cold.tolist() == [False, True, False]
    assert missing_ids(CACHE, ["b", "new", "a", "newer"]) == ["new", "newer"]


def test_rows_read_on_a_miss_fill_their_candidates_only() -> None:
    extra = _table({"new": (5.0, 50.0, 1)})
    got = gather_items(CACHE, ["new", "a", "gone"], extra)
    np.testing.assert_array_equal(got.matrix, [[5, 50], [1, 10], [NAN, NAN]])
    assert got.inputs == {"topic": [1, 3, None]}
    assert got.cold.tolist() == [False, False, True]
    assert CACHE.matrix.shape == (3, 2)  # the shared table is never written to


def test_unknown_values_become_nan_float32() -> None:
    got = as_floats([1, None, 2.5, 7])
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, [1.0, NAN, 2.5, 7.0])


def test_snapshot_hash_is_short_and_changes_with_any_value() -> None:
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    y = x.copy()
    y[2, 3] = 11.5
    assert len(snapshot_hash(x)) == 16 and snapshot_hash(x) == snapshot_hash(x.copy())
    assert snapshot_hash(x) != snapshot_hash(y)


@pytest.mark.parametrize(
    ("fields", "where", "says"),
    [
        ({"k": 101}, "k", "at most 100"),
        ({"candidates": [f"i{n}" for n in range(51)]}, "candidates", "at most 50"),
        ({"candidates": ["i1", "i2", "i1", "i3", "i2"]}, "candidates", "['i1', 'i2']"),
    ],
)
def test_limits_beyond_the_schema_name_the_field(fields: dict, where: str, says: str) -> None:
    request = RankRequest(**{"user_id": "u1", "candidates": ["i1", "i2"], **fields})
    with pytest.raises(BadRankRequest, match=says.replace("[", r"\[")) as caught:
        check_limits(request, ServingConfig(max_k=100, max_candidates=50))
    assert caught.value.field == where


def test_limits_accept_a_request_at_the_limits() -> None:
    request = RankRequest(user_id="u1", candidates=[f"i{n}" for n in range(50)], k=50)
    check_limits(request, ServingConfig(max_k=50, max_candidates=50))


def test_request_time_comes_from_the_context_or_the_clock() -> None:
    assert request_time({"request_ts": 1767258000.5}) == datetime(
        2026, 1, 1, 9, 0, 0, 500000, tzinfo=UTC
    )
    before = datetime.now(UTC)
    for context in ({}, {"request_ts": "yesterday"}, {"request_ts": True}):
        assert before <= request_time(context) <= datetime.now(UTC)
