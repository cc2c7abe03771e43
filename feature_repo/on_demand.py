"""Features computed at request time from stored features and the request itself."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from feast import FeatureView, Field, RequestSource
from feast.on_demand_feature_view import OnDemandFeatureView, on_demand_feature_view
from feast.types import Float64

from feature_repo.tables import (
    ITEM_EMBEDDING,
    ITEM_PROFILE,
    USER_ATTRIBUTES,
    USER_HISTORY,
    USER_TOPIC_AFFINITY,
)


def user_item_match(views: dict[str, FeatureView], request: RequestSource) -> OnDemandFeatureView:
    """`topic_affinity_match` (the user's affinity for the item's topic), `item_age_hours`."""

    # Feast serializes this function by value into the registry: it must not refer to anything
    # outside its own body. Unknown values are NaN, not None: Feast infers the output types by
    # calling it on sample rows, and XGBoost reads NaN as missing.
    @on_demand_feature_view(
        sources=[views[USER_TOPIC_AFFINITY], views[ITEM_PROFILE], request],
        schema=[
            Field(name="topic_affinity_match", dtype=Float64),
            Field(name="item_age_hours", dtype=Float64),
        ],
        mode="python",
        description="Computed per (user, item) at request time; needs request_ts.",
    )
    def user_item_match(inputs: dict[str, list[Any]]) -> dict[str, list[Any]]:
        match, age = [], []
        for affinity, topic, created, asked in zip(
            inputs["topic_affinity"],
            inputs["topic"],
            inputs["created_at_epoch_s"],
            inputs["request_ts"],
            strict=True,
        ):
            known = affinity is not None and topic is not None and 0 <= topic < len(affinity)
            match.append(float(affinity[topic]) if known else float("nan"))
            if created is None or asked is None:
                age.append(float("nan"))
                continue
            # A datetime from the Python SDK, epoch seconds over HTTP (`feast serve`).
            asked_s = asked.timestamp() if hasattr(asked, "timestamp") else float(asked)
            age.append((asked_s - created) / 3600.0)
        return {"topic_affinity_match": match, "item_age_hours": age}

    return user_item_match


def user_item_similarity(views: dict[str, FeatureView]) -> OnDemandFeatureView:
    """`taste_similarity`: the cosine of the user's taste (user_history) and the item's
    embedding, both in the embedding's day-to-day stable basis; NaN where either is unknown
    or zero (a user with no good engagement yet)."""

    @on_demand_feature_view(
        sources=[views[USER_HISTORY][["user_lt_taste"]], views[ITEM_EMBEDDING][["embedding"]]],
        schema=[Field(name="taste_similarity", dtype=Float64)],
        mode="python",
        description="Cosine of the user's decayed taste vector and the item embedding.",
    )
    def user_item_similarity(inputs: dict[str, list[Any]]) -> dict[str, list[Any]]:
        from math import sqrt  # correctly rounded, as numpy's twin is on every CPU

        out = []
        for taste, vector in zip(inputs["user_lt_taste"], inputs["embedding"], strict=True):
            if taste is None or vector is None or len(taste) != len(vector):
                out.append(float("nan"))
                continue
            dot = sum(a * b for a, b in zip(taste, vector, strict=True))
            norms = sqrt(sum(a * a for a in taste)) * sqrt(sum(b * b for b in vector))
            out.append(dot / norms if norms > 0 else float("nan"))
        return {"taste_similarity": out}

    return user_item_similarity


def user_declared_match(views: dict[str, FeatureView]) -> OnDemandFeatureView:
    """`declared_topic_match`: 1 when the user declared the item's topic, 0 when they declared
    others, NaN when they declared none (or have no attributes)."""

    @on_demand_feature_view(
        sources=[views[USER_ATTRIBUTES][["user_declared_topics"]], views[ITEM_PROFILE][["topic"]]],
        schema=[Field(name="declared_topic_match", dtype=Float64)],
        mode="python",
        description="Whether the item's topic is one the user declared as an interest.",
    )
    def user_declared_match(inputs: dict[str, list[Any]]) -> dict[str, list[Any]]:
        out = []
        for declared, topic in zip(inputs["user_declared_topics"], inputs["topic"], strict=True):
            if declared is None or len(declared) == 0 or topic is None:
                out.append(float("nan"))
                continue
            out.append(float(declared[topic]) if 0 <= topic < len(declared) else 0.0)
        return {"declared_topic_match": out}

    return user_declared_match


# Vectorised twins of the views above, for point-in-time joins over whole columns
# (point_in_time.py): the same arithmetic in the same order, so the same float64 values, as
# the Python functions give row by row (tests/unit/test_on_demand_vectorised.py). A twin
# serves only the function it was written for: its fingerprint is that of the view's source.
CHUNK = 131_072  # rows per step of the cosine: bounds the float64 copies of the vectors


@dataclass(frozen=True)
class Gathered:
    """A view's column at the rows a join picked: `values[rows]`, no value where rows is -1.
    Twins read the (small) view table once per row of it, not once per joined row."""

    values: pa.ChunkedArray | pa.Array
    rows: np.ndarray

    @staticmethod
    def of(column: pa.ChunkedArray | pa.Array | Gathered) -> Gathered:
        if isinstance(column, Gathered):
            return column
        return Gathered(column, np.arange(len(column)))

    def arrow(self) -> pa.ChunkedArray | pa.Array:
        return self.values.take(pa.array(self.rows, mask=self.rows < 0))


Columns = dict[str, Any]  # input name -> Gathered or a pyarrow (Chunked)Array


def _scalars(column: Any, dtype: type) -> tuple[np.ndarray, np.ndarray]:
    """A column's values as `dtype` (0 where unknown) and where they are known."""
    column = _padded(Gathered.of(column))
    values = pc.fill_null(column.values, 0).to_numpy().astype(dtype)
    known = column.values.is_valid().to_numpy(zero_copy_only=False)
    rows = np.where(column.rows < 0, 0, column.rows)
    return values[rows], known[rows] & (column.rows >= 0)


def _padded(column: Gathered) -> Gathered:
    """`column` with one null value when its view table is empty (an optional view without
    rows), so every row can point somewhere: all its rows are -1, unknown."""
    if len(column.values):
        return column
    return Gathered(pa.nulls(1, column.values.type), column.rows)


def _match(columns: Columns) -> Columns:
    affinity = _lists(columns["topic_affinity"])
    topic, has_topic = _scalars(columns["topic"], np.int64)
    known = affinity.valid & has_topic & (topic >= 0) & (topic < affinity.lengths)
    match = np.full(len(topic), np.nan)
    match[known] = affinity.flat[affinity.starts[known] + topic[known]]
    created, has_created = _scalars(columns["created_at_epoch_s"], np.int64)
    asked = pc.cast(Gathered.of(columns["request_ts"]).arrow(), pa.timestamp("us", "UTC"))
    asked_us, has_asked = _scalars(pc.cast(asked, pa.int64()), np.int64)
    seen = has_created & has_asked
    age = np.full(len(topic), np.nan)
    asked_s = asked_us[seen] / 1e6  # datetime.timestamp(), exactly
    age[seen] = (asked_s - created[seen].astype(np.float64)) / 3600.0
    return {"topic_affinity_match": match, "item_age_hours": age}


def _similarity(columns: Columns) -> Columns:
    taste, vector = _lists(columns["user_lt_taste"]), _lists(columns["embedding"])
    rows = np.flatnonzero(taste.valid & vector.valid & (taste.lengths == vector.lengths))
    out = np.full(len(taste.valid), np.nan)
    for size in np.unique(taste.lengths[rows]):
        same = rows[taste.lengths[rows] == size]
        for part in np.array_split(same, max(1, len(same) // CHUNK)):
            a, b = taste.matrix(part, size), vector.matrix(part, size)
            dot, aa, bb = np.zeros(len(part)), np.zeros(len(part)), np.zeros(len(part))
            for k in range(size):  # left to right, as Python's sum() adds
                dot += a[:, k] * b[:, k]
                aa += a[:, k] * a[:, k]
                bb += b[:, k] * b[:, k]
            # sqrt, not pow(x, 0.5): IEEE rounds sqrt exactly, SIMD pow may differ by an ulp
            norms = np.sqrt(aa) * np.sqrt(bb)
            with np.errstate(divide="ignore", invalid="ignore"):
                out[part] = np.where(norms > 0, dot / norms, np.nan)
    return {"taste_similarity": out}


class _lists:
    """A list column's flat float64 values, each row's start and length, and its validity."""

    def __init__(self, column: Any) -> None:
        column = _padded(Gathered.of(column))
        values = column.values
        array = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
        offsets = array.offsets.to_numpy()
        rows = np.where(column.rows < 0, 0, column.rows)
        valid = array.is_valid().to_numpy(zero_copy_only=False)
        self.flat = array.values.to_numpy(zero_copy_only=False).astype(np.float64)
        self.starts = offsets[:-1].astype(np.int64)[rows]
        self.valid = valid[rows] & (column.rows >= 0)
        self.lengths = np.where(self.valid, (offsets[1:] - offsets[:-1])[rows], -1)

    def matrix(self, rows: np.ndarray, size: int) -> np.ndarray:
        return self.flat[self.starts[rows][:, None] + np.arange(size)]


def _declared(columns: Columns) -> Columns:
    declared = _lists(columns["user_declared_topics"])
    topic, has_topic = _scalars(columns["topic"], np.int64)
    said = declared.valid & (declared.lengths > 0) & has_topic
    out = np.full(len(topic), np.nan)
    out[said] = 0.0
    inside = said & (topic >= 0) & (topic < declared.lengths)
    out[inside] = declared.flat[declared.starts[inside] + topic[inside]]
    return {"declared_topic_match": out}


VECTORISED = {
    "user_item_match": (_match, "f0e40c2d159007bd"),
    "user_item_similarity": (_similarity, "14688e257f4b140f"),
    "user_declared_match": (_declared, "078a70dd3f0da2c0"),
}


def fingerprint(udf_string: str) -> str:
    """What a twin is checked against: the view's function source as the registry holds it."""
    return hashlib.sha256(udf_string.encode()).hexdigest()[:16]


def vectorised(view: OnDemandFeatureView, columns: Columns) -> Columns:
    """`view`'s outputs over whole columns: its twin when the registry's function is the one
    the twin was written for, else Feast's own function on only the view's inputs."""
    twin = VECTORISED.get(view.name)
    source = view.feature_transformation.udf_string
    if twin is not None and fingerprint(source) == twin[1]:
        return twin[0](columns)
    names = [f.name for s in view.source_feature_view_projections.values() for f in s.features]
    names += [f.name for s in view.source_request_sources.values() for f in s.schema]
    inputs = pa.table({n: Gathered.of(columns[n]).arrow() for n in names})
    out = view.feature_transformation.udf(inputs.to_pydict())
    return {field.name: pa.array(out[field.name], pa.float64()) for field in view.features}
