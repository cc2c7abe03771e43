"""The bulk writer's encodings are Feast's, byte for byte (feature_repo/online_encode.py)."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from feast.infra.key_encoding_utils import serialize_entity_key
from feast.infra.online_stores.helpers import extract_text_and_num
from feast.protos.feast.types.EntityKey_pb2 import EntityKey
from feast.type_map import python_values_to_proto_values
from feast.value_type import ValueType

from feature_repo.online_encode import encode_column, entity_keys

CASES = [
    (pa.float32(), ValueType.FLOAT, [0.0, -0.0, 1e-5, -3.25, math.inf, -math.inf, math.nan, None]),
    (pa.float64(), ValueType.DOUBLE, [0.1, -0.0, 1e300, math.nan, None, 2.0]),
    (pa.int64(), ValueType.INT64, [0, -1, 2**62, None, 300, 300]),
    (pa.int32(), ValueType.INT32, [0, -(2**31), 2**31 - 1, None]),
    (pa.bool_(), ValueType.BOOL, [True, False, None, True]),
    (pa.string(), ValueType.STRING, ["a", "it's é", "", None, "a"]),
    (pa.list_(pa.float32()), ValueType.FLOAT_LIST, [[0.5, 1.5], None, [2.0]]),
]


@pytest.mark.parametrize(("arrow", "kind", "values"), CASES, ids=[c[1].name for c in CASES])
def test_values_encode_as_feast_serializes_them(arrow, kind, values) -> None:
    column = pa.array(values, arrow)
    protos = python_values_to_proto_values(column.to_numpy(zero_copy_only=False), kind)
    encoded = encode_column(column, kind)
    assert encoded.values == [proto.SerializeToString() for proto in protos]
    assert encoded.texts == [extract_text_and_num(proto, False)[0] for proto in protos]


def test_string_entity_keys_are_feasts() -> None:
    table = pa.table({"user_id": ["u1", "é", ""]})
    keys = entity_keys(table, {"user_id": ValueType.STRING}, 3)
    for value, key in zip(table.column("user_id").to_pylist(), keys, strict=True):
        proto = python_values_to_proto_values(np.array([value]), ValueType.STRING)
        assert key == serialize_entity_key(EntityKey(join_keys=["user_id"], entity_values=proto), 3)
