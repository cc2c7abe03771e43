"""Feature values and entity keys as the bytes Feast's online stores keep, a column at a time.

Feast builds one protobuf per value in Python (`python_values_to_proto_values`); here float
columns are packed in NumPy into the same bytes (a Value is its field's tag and the
little-endian number), columns with few distinct values (ints, flags, strings) go through Feast's
converter once per distinct value, and any other type goes through it per value. Unit tests hold
every type against Feast byte for byte; the one-string-key layout is checked on each call.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from feast.infra.key_encoding_utils import serialize_entity_key
from feast.infra.online_stores.helpers import extract_text_and_num
from feast.protos.feast.types.EntityKey_pb2 import EntityKey as EntityKeyProto
from feast.type_map import python_values_to_proto_values
from feast.utils import _coerce_datetime
from feast.value_type import ValueType

# Protobuf tags of Value.float_val (field 6, fixed32) and Value.double_val (field 5, fixed64).
_FIXED = {ValueType.FLOAT: (0x35, "<f4"), ValueType.DOUBLE: (0x29, "<f8")}
_DICTIONARY = {ValueType.INT64, ValueType.INT32, ValueType.BOOL, ValueType.STRING}


class Column:
    """One feature column as the online store keeps it: serialized values and, computed when
    first asked for (only SQLite keeps it), the text of each value."""

    def __init__(self, values: list[bytes], texts: Callable[[], list[str | None]]) -> None:
        self.values, self._texts, self._made = values, texts, None

    @property
    def texts(self) -> list[str | None]:
        if self._made is None:
            self._made = self._texts()
        return self._made


def encode_column(column: pa.ChunkedArray | pa.Array, value_type: ValueType) -> Column:
    """The bytes Feast's `python_values_to_proto_values` would give, per value; null/NaN → b""."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if value_type in _FIXED:
        return _encode_fixed(column, *_FIXED[value_type])
    if value_type in _DICTIONARY:
        # Few distinct values (counts, flags, ids): Feast converts each once.
        encoded = column.dictionary_encode()
        distinct = _feast_column(encoded.dictionary.to_numpy(zero_copy_only=False), value_type)
        index = encoded.indices.fill_null(len(encoded.dictionary)).to_numpy()
        values = np.array([*distinct.values, b""], dtype=object)[index].tolist()
        return Column(
            values, lambda: np.array([*distinct.texts, None], dtype=object)[index].tolist()
        )
    return _feast_column(column.to_numpy(zero_copy_only=False), value_type)


def _encode_fixed(column: pa.Array, tag: int, dtype: str) -> Column:
    numbers = column.to_numpy(zero_copy_only=False).astype(dtype)  # nulls arrive as NaN
    width = np.dtype(dtype).itemsize + 1
    packed = np.empty((len(numbers), width), np.uint8)
    packed[:, 0] = tag
    packed[:, 1:] = numbers.view(np.uint8).reshape(len(numbers), width - 1)
    values = packed.view(f"V{width}").ravel().tolist()  # one bytes object per row
    missing = np.flatnonzero(np.isnan(numbers)).tolist()
    for row in missing:
        values[row] = b""

    def texts() -> list[str | None]:
        # SQLite's value_text: str() of the value as the proto gives it back, a Python float.
        out: list[str | None] = list(map(str, numbers.astype(np.float64).tolist()))
        for row in missing:
            out[row] = None
        return out

    return Column(values, texts)


def _feast_column(values: np.ndarray, value_type: ValueType) -> Column:
    protos = python_values_to_proto_values(values, value_type)
    return Column(
        [proto.SerializeToString() for proto in protos],
        lambda: [extract_text_and_num(proto, False)[0] for proto in protos],
    )


def timestamps(column: pa.ChunkedArray, convert: Callable[[datetime], Any]) -> list[Any]:
    """`convert` of each row's timestamp as Feast builds it, computed once per distinct stamp."""
    encoded = column.combine_chunks().dictionary_encode()
    stamps = pd.to_datetime(encoded.dictionary.to_numpy(zero_copy_only=False))
    distinct = [convert(_coerce_datetime(stamp)) for stamp in stamps]
    return np.array(distinct, dtype=object)[encoded.indices.to_numpy()].tolist()


def entity_keys(table: pa.Table, join_keys: dict[str, ValueType], version: int) -> list[bytes]:
    """Feast's serialized entity key of every row."""
    if list(join_keys.values()) == [ValueType.STRING] and version == 3:
        return _string_keys(table.column(next(iter(join_keys))), next(iter(join_keys)))
    names = list(join_keys)
    columns = [
        python_values_to_proto_values(table.column(k).to_numpy(zero_copy_only=False), t)
        for k, t in join_keys.items()
    ]
    return [
        serialize_entity_key(EntityKeyProto(join_keys=names, entity_values=values), version)
        for values in zip(*columns, strict=True)
    ]


def _string_keys(column: pa.ChunkedArray, name: str) -> list[bytes]:
    """Version 3 of one string join key: 1, then the name, then the value, each after its type
    and length (key_encoding_utils.serialize_entity_key); held against Feast on the first row."""
    string = ValueType.STRING.value
    head = struct.pack("<III", 1, string, len(name.encode())) + name.encode()
    values = [value.encode() for value in column.to_pylist()]
    keys = [b"".join((head, struct.pack("<II", string, len(v)), v)) for v in values]
    if keys:
        first = python_values_to_proto_values(np.array(column[:1].to_pylist()), ValueType.STRING)
        feast = serialize_entity_key(EntityKeyProto(join_keys=[name], entity_values=first), 3)
        if keys[0] != feast:
            raise RuntimeError(f"entity key layout of Feast changed: {feast!r} != {keys[0]!r}")
    return keys
