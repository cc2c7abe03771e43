"""Item embeddings from co-engagement: truncated SVD of the item-item co-click matrix.

The matrix counts users who clicked both items, normalized to a cosine (count / sqrt of both
items' clicker counts); it is positive semi-definite, so U * sqrt(S) are vectors whose dot
products approximate it, and items clicked by the same users end up close.

Cold start: an item that shares no clicker with another item yet (e.g. created yesterday) gets
the mean embedding of the learned items of its topic (zeros if there are none), and
`cold_start` = true.
The SVD basis is refit every day, so compare embeddings of one day with each other (cosine),
not coordinates across days.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.utils.extmath import randomized_svd

from feature_repo.transforms.labelled import DAY, stamped


def item_embeddings(
    labelled: pd.DataFrame,
    catalog: pd.DataFrame,
    end: datetime,
    days: int,
    dim: int,
    seed: int,
) -> pd.DataFrame:
    """One unit-length `embedding` (length `dim`) per catalog item created before `end`."""
    items = catalog.loc[catalog["created_at"] < end].sort_values("item_id")
    ids = pd.Index(items["item_id"].astype(str), name="item_id")
    clicks = labelled[labelled["clicked"] & (labelled["ts"] >= end - days * DAY)]
    co_clicks = _co_clicks(clicks, ids)
    shared = co_clicks - sparse.diags(co_clicks.diagonal())
    learned = np.flatnonzero(shared.getnnz(axis=1))  # items that share a clicker with another
    vectors = np.zeros((len(ids), dim), dtype="float64")
    if len(learned) >= 2:
        vectors[learned] = _svd_vectors(co_clicks[learned][:, learned], dim, seed)
    cold = np.ones(len(ids), dtype=bool)
    cold[learned] = False
    topics = items["topic"].to_numpy()
    for topic in np.unique(topics[cold]):
        peers = ~cold & (topics == topic)
        if peers.any():
            vectors[cold & (topics == topic)] = _unit(vectors[peers].mean(axis=0, keepdims=True))
    frame = pd.DataFrame({"item_id": ids})
    frame["embedding"] = list(vectors.astype("float32"))
    frame["cold_start"] = cold
    return stamped(frame, end)


def _co_clicks(clicks: pd.DataFrame, ids: pd.Index) -> sparse.csr_matrix:
    """Items x items cosine of their clicker sets (1 on the diagonal of clicked items)."""
    pairs = clicks[["user_id", "item_id"]].drop_duplicates()
    cols = ids.get_indexer(pairs["item_id"])
    pairs, cols = pairs[cols >= 0], cols[cols >= 0]
    users = pd.factorize(pairs["user_id"])[0]
    shape = (users.max() + 1 if len(users) else 0, len(ids))
    user_item = sparse.csr_matrix((np.ones(len(cols)), (users, cols)), shape=shape)
    co = (user_item.T @ user_item).tocsr()
    counts = co.diagonal()
    scale = sparse.diags(np.divide(1.0, np.sqrt(counts), out=np.zeros(len(ids)), where=counts > 0))
    co = (scale @ co @ scale).tocsr()
    co.eliminate_zeros()
    return co


def _svd_vectors(co_clicks: sparse.csr_matrix, dim: int, seed: int) -> np.ndarray:
    """Unit rows of U * sqrt(S) from a truncated SVD of the co-click cosines, zero-padded."""
    rank = min(dim, co_clicks.shape[0] - 1)
    u, s, _ = randomized_svd(co_clicks, rank, random_state=seed)
    out = np.zeros((co_clicks.shape[0], dim))
    out[:, :rank] = u * np.sqrt(s)
    return _unit(out)


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
