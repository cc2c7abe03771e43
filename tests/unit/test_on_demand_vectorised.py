"""The on-demand views' vectorised twins give the views' own Python functions' values, bit for
bit (float64), on hand-made edge cases and random rows; a changed function loses its twin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest

from engageflow.settings import Settings
from feature_repo import on_demand
from feature_repo.definitions import definitions


@pytest.fixture(scope="module")
def views(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return definitions(Settings(data_dir=tmp_path_factory.mktemp("data"))).on_demand


def _vectors(rng: np.random.Generator, n: int, size: int) -> list:
    rows: list = [rng.normal(size=size).astype(np.float32).tolist() for _ in range(n)]
    rows[:6] = [
        None,
        [],
        [0.0] * size,
        [1.0] * (size - 1),
        [-0.0] * size,
        [np.float32(1e-30).item()] * size,
    ]
    return rows


def _both(view, inputs: dict[str, list], types: dict[str, pa.DataType]) -> None:
    expected = view.feature_transformation.udf({k: list(v) for k, v in inputs.items()})
    columns = {k: pa.chunked_array([pa.array(v, types[k])]) for k, v in inputs.items()}
    got = on_demand.vectorised(view, columns)
    for field in view.features:
        want = np.array(expected[field.name], dtype=np.float64)
        have = np.asarray(got[field.name], dtype=np.float64)
        np.testing.assert_array_equal(have, want, err_msg=field.name)  # NaN equals NaN
        assert np.isnan(want).any() and (~np.isnan(want)).any(), field.name


def test_the_taste_similarity_twin(views: dict) -> None:
    rng = np.random.default_rng(4)
    taste, vector = _vectors(rng, 3000, 16), _vectors(rng, 3000, 16)
    rng.shuffle(vector)
    vector[100:110] = taste[100:110]  # identical vectors: a cosine of (about) 1
    vector[200] = [float(v) for v in rng.normal(size=8)]  # other length: unknown
    types = {"user_lt_taste": pa.list_(pa.float32()), "embedding": pa.list_(pa.float32())}
    _both(views["user_item_similarity"], {"user_lt_taste": taste, "embedding": vector}, types)


def test_the_topic_match_and_age_twin(views: dict) -> None:
    rng = np.random.default_rng(5)
    n = 3000
    affinity = [rng.random(8).astype(np.float32).tolist() for _ in range(n)]
    affinity[:3] = [None, [], [0.5] * 3]
    topic = [int(t) for t in rng.integers(-1, 10, n)]  # -1 and 8, 9 are out of range
    topic[3:6] = [None, 0, 2]
    created = [int(c) for c in rng.integers(1_600_000_000, 1_800_000_000, n)]
    created[6:8] = [None, -86_400 * 365 * 30]  # unknown, and before 1970
    start = datetime(2026, 1, 2, tzinfo=UTC)
    asked = [start + timedelta(microseconds=int(u)) for u in rng.integers(0, 86_400e6, n)]
    inputs = {
        "topic_affinity": affinity,
        "topic": topic,
        "created_at_epoch_s": created,
        "request_ts": asked,
    }
    types = {
        "topic_affinity": pa.list_(pa.float32()),
        "topic": pa.int64(),
        "created_at_epoch_s": pa.int64(),
        "request_ts": pa.timestamp("us", "UTC"),
    }
    _both(views["user_item_match"], inputs, types)


def test_each_twin_belongs_to_the_current_function(views: dict) -> None:
    """Edit an on-demand view's function and this fails: update its twin to match (and the
    tests above), then its fingerprint in on_demand.VECTORISED."""
    for name, (_, fingerprint) in on_demand.VECTORISED.items():
        source = views[name].feature_transformation.udf_string
        assert on_demand.fingerprint(source) == fingerprint, name


def test_a_view_without_its_twin_runs_its_own_function(
    views: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    view = views["user_item_similarity"]
    twin, _ = on_demand.VECTORISED[view.name]
    monkeypatch.setitem(on_demand.VECTORISED, view.name, (twin, "another function"))
    calls = []
    monkeypatch.setattr(
        view.feature_transformation,
        "udf",
        lambda i: calls.append(i) or {"taste_similarity": [0.25] * len(i["embedding"])},
    )
    vector = pa.chunked_array([pa.array([[1.0, 0.0]], pa.list_(pa.float32()))])
    out = on_demand.vectorised(view, {"user_lt_taste": vector, "embedding": vector})
    assert calls and out["taste_similarity"].to_pylist() == [0.25]


def test_the_declared_topic_match_twin(views: dict) -> None:
    rng = np.random.default_rng(6)
    n = 3000
    declared = [
        (rng.random(int(rng.integers(1, 12))) < 0.3).astype(np.float32).tolist() for _ in range(n)
    ]
    declared[:3] = [None, [], [1.0]]
    topic = [int(t) for t in rng.integers(-1, 12, n)]  # -1 and beyond a vector: not declared
    topic[3] = None
    inputs = {"user_declared_topics": declared, "topic": topic}
    types = {"user_declared_topics": pa.list_(pa.float32()), "topic": pa.int64()}
    _both(views["user_declared_match"], inputs, types)


def test_a_twin_reads_an_empty_view_as_unknown(views: dict) -> None:
    """A user table never imported: the attributes view has no rows, every join row is -1."""
    empty = on_demand.Gathered(pa.chunked_array([], pa.list_(pa.float32())), np.full(5, -1))
    topics = pa.chunked_array([pa.array([0, 1, 2, 3, None], pa.int64())])
    got = on_demand.vectorised(
        views["user_declared_match"], {"user_declared_topics": empty, "topic": topics}
    )
    assert np.isnan(np.asarray(got["declared_topic_match"], dtype=float)).all()
