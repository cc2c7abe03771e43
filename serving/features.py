"""One request's feature matrix: the user's row broadcast, item rows gathered, on-demand columns.

The result equals what Feast's `get_online_features(features=<service>, ...)` returns for the
same (user, item, request_ts) rows, cast to float32 as in training (tests prove it), in the
model's column order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from serving.feature_layout import FeatureLayout
from serving.online_rows import ItemTable, as_floats


@dataclass(frozen=True)
class ItemRows:
    matrix: np.ndarray  # (n, len(layout.item_names)) float32
    inputs: dict[str, list]  # on-demand inputs per candidate
    cold: np.ndarray  # bool (n,): no row anywhere (cold start: NaN features)


def missing_ids(table: ItemTable, ids: Sequence[str]) -> list[str]:
    """Candidates the item table does not hold (new since its last load)."""
    return [i for i in ids if i not in table.index]


def gather_items(table: ItemTable, ids: Sequence[str], extra: ItemTable | None = None) -> ItemRows:
    """Candidates' rows from `table`, then from `extra` (rows read on a miss), else cold-start."""
    rows = table.rows(ids)
    matrix = table.matrix[rows]
    inputs = {name: [column[r] for r in rows] for name, column in table.inputs.items()}
    cold = rows == table.cold_row
    if extra is not None and cold.any():
        where = np.flatnonzero(cold)
        found = extra.rows([ids[p] for p in where])
        matrix[where] = extra.matrix[found]
        for name, column in extra.inputs.items():
            for p, r in zip(where, found, strict=True):
                inputs[name][p] = column[r]
        cold[where] = found == extra.cold_row
    return ItemRows(matrix, inputs, cold)


def is_unknown_user(layout: FeatureLayout, user: dict[str, object]) -> bool:
    """No online row in any user view: a user the model knows nothing about."""
    return all(user[name] is None for read in layout.user_reads for name in read.names)


def feature_matrix(
    layout: FeatureLayout, user: dict[str, object], items: ItemRows, request_ts: datetime
) -> np.ndarray:
    """The (candidates x model columns) float32 matrix for one user and request time."""
    n = len(items.cold)
    x = np.empty((n, len(layout.columns)), dtype=np.float32)
    x[:, layout.user_columns] = as_floats([user[name] for name in layout.user_names])
    x[:, layout.item_columns] = items.matrix[:, : len(layout.item_columns)]
    # Feast carries request_ts as a UNIX timestamp in whole seconds; so do we.
    request = {"request_ts": request_ts.replace(microsecond=0)}
    for od in layout.on_demand:
        inputs = {name: [user[name]] * n for name in od.user_inputs}
        inputs |= {name: items.inputs[name] for name in od.item_inputs}
        inputs |= {name: [request[name]] * n for name in od.request_inputs}
        out = od.view.transform_dict(inputs)
        for column, name in zip(od.columns, od.outputs, strict=True):
            x[:, column] = as_floats(out[name])
    return x


def snapshot_hash(x: np.ndarray) -> str:
    """A short fingerprint of the exact feature matrix a slate was scored on."""
    return hashlib.blake2b(x.tobytes(), digest_size=8).hexdigest()
