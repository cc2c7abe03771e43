"""Item embeddings from co-engagement: truncated SVD of the item-item co-click matrix, rotated
onto the day before's basis, so an item's vector keeps its coordinates from day to day.

The matrix counts users who clicked both items, normalized to a cosine (count / sqrt of both
items' clicker counts); an item's vector is its row of that matrix projected on the top
components (U * S, unit length), so items clicked by the same users end up close. Weighting by
S, not sqrt(S), keeps the weak components (noise within a cluster) from swinging a unit vector
when they are refit.

Stable coordinates: an SVD basis is only defined up to a rotation (and flips), and refit daily
it would wander, so a stored user vector (user_history) would point elsewhere tomorrow. The
orthogonal rotation that best maps today's vectors of the items learned both days onto
yesterday's (orthogonal Procrustes, scipy) fixes that without changing any cosine of one day.
A rotation cannot stop the weak within-cluster components that a refit keeps or drops as other
items come and go, so an item's vector is then smoothed toward its previous one, which loses
half its weight every `half_life_days` (the temporal smoothing of dynamic embeddings, as in
Yao et al., WSDM 2018): an unchanged item stays put, a changed one arrives in a few days.

Cold start: an item that shares no clicker with another item yet (e.g. created yesterday) gets
a vector predicted from its metadata (topic, sensationalism, production score, log duration)
by a ridge regression fit on the learned items (scikit-learn), and `cold_start` = true.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.linalg import orthogonal_procrustes
from sklearn.linear_model import Ridge
from sklearn.utils.extmath import randomized_svd

from feature_repo.transforms.labelled import DAY, decay, stamped


def item_embeddings(
    labelled: pd.DataFrame,
    catalog: pd.DataFrame,
    end: datetime,
    days: int,
    dim: int,
    seed: int,
    previous: pd.DataFrame | None = None,
    half_life_days: float = 0.0,
) -> pd.DataFrame:
    """One unit-length `embedding` (length `dim`) per catalog item created before `end`, in the
    basis of `previous` (an earlier table of this function) and smoothed toward it when there is
    one (`half_life_days` 0: not smoothed)."""
    items = catalog.loc[catalog["created_at"] < end].sort_values("item_id")
    ids = pd.Index(items["item_id"].astype(str), name="item_id")
    clicks = labelled[labelled["clicked"] & (labelled["ts"] >= end - days * DAY)]
    co_clicks = _co_clicks(clicks, ids)
    shared = co_clicks - sparse.diags(co_clicks.diagonal())
    learned = np.flatnonzero(shared.getnnz(axis=1))  # items that share a clicker with another
    vectors = np.zeros((len(ids), dim), dtype="float64")
    if len(learned) >= 2:
        vectors[learned] = _svd_vectors(co_clicks[learned][:, learned], dim, seed)
        if previous is not None:
            vectors[learned] = _aligned(vectors[learned], ids[learned], previous)
            if half_life_days > 0:
                vectors[learned] = _smoothed(
                    vectors[learned], ids[learned], previous, end, half_life_days
                )
    cold = np.ones(len(ids), dtype=bool)
    cold[learned] = False
    if cold.any() and len(learned) >= 2:
        vectors[cold] = _from_metadata(items, learned, cold, vectors[learned])
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
    """Unit rows of U * S from a truncated SVD of the co-click cosines, zero-padded."""
    rank = min(dim, co_clicks.shape[0] - 1)
    u, s, _ = randomized_svd(co_clicks, rank, random_state=seed)
    out = np.zeros((co_clicks.shape[0], dim))
    out[:, :rank] = u * s
    return _unit(out)


def _aligned(vectors: np.ndarray, ids: pd.Index, previous: pd.DataFrame) -> np.ndarray:
    """`vectors` rotated onto `previous`'s basis, fit on the items learned in both."""
    common, old, _ = _previous_vectors(ids, previous, vectors.shape[1])
    if len(common) < 2:
        return vectors
    rotation, _ = orthogonal_procrustes(vectors[common], old)
    return vectors @ rotation


def _smoothed(
    vectors: np.ndarray, ids: pd.Index, previous: pd.DataFrame, end: datetime, half_life: float
) -> np.ndarray:
    """Unit blends of `vectors` with the items' previous learned vectors, weighted by age."""
    common, old, stamps = _previous_vectors(ids, previous, vectors.shape[1])
    kept = decay(stamps, pd.Timestamp(end), half_life)[:, None]
    out = vectors.copy()
    out[common] = _unit((1 - kept) * vectors[common] + kept * old)
    return out


def _previous_vectors(
    ids: pd.Index, previous: pd.DataFrame, dim: int
) -> tuple[np.ndarray, np.ndarray, pd.Series]:
    """Positions of `ids` learned in `previous`, their vectors there and those rows' stamps;
    none when the dimension setting changed (a new basis)."""
    before = previous.loc[~previous["cold_start"].to_numpy(dtype=bool)]
    where = pd.Index(before["item_id"].astype(str)).get_indexer(ids)
    common = np.flatnonzero(where >= 0)
    rows = before.iloc[where[common]]
    old = np.stack(rows["embedding"].to_numpy()).astype("float64") if len(rows) else None
    if old is None or old.shape[1] != dim:
        return np.empty(0, dtype=int), np.empty((0, dim)), rows["event_timestamp"].iloc[:0]
    return common, old, rows["event_timestamp"]


def _from_metadata(
    items: pd.DataFrame, learned: np.ndarray, cold: np.ndarray, vectors: np.ndarray
) -> np.ndarray:
    """Unit vectors for the cold items, predicted from metadata by a ridge regression."""
    x = _metadata(items)
    model = Ridge(alpha=1.0).fit(x[learned], vectors)
    return _unit(model.predict(x[cold]))


def _metadata(items: pd.DataFrame) -> np.ndarray:
    """Topic one-hot and standardized numeric cues (missing -> the mean: 0)."""
    topics = pd.get_dummies(items["topic"].astype("int64"), dtype="float64").to_numpy()
    numeric = pd.DataFrame(
        {
            "sensationalism": items["headline_sensationalism"].astype("float64"),
            "production": items["production_score"].astype("float64"),
            "duration": np.log1p(items["duration_seconds"].astype("float64").clip(lower=0)),
        }
    )
    spread = numeric.std(ddof=0).replace(0, 1).fillna(1)
    scaled = ((numeric - numeric.mean()) / spread).fillna(0.0).to_numpy()
    return np.hstack([topics, scaled])


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
