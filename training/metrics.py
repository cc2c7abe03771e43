"""Pure evaluation metrics on NumPy arrays: probability, ranking, calibration and off-policy.

Ranking metrics group rows by request and order each request's rows by score (descending); ties
are broken by `tiebreak` (ascending), so every model compared on the same rows with the same
tiebreak gets the same treatment. Requests without a good item carry no ranking information and
are left out of NDCG, MAP and MRR. Optional `weights` (row multiplicities, e.g. from a bootstrap
over requests) make every metric a weighted one.

Log loss and ROC AUC are scikit-learn's. Ours remain where no library fits: NDCG/AP/RR by
request with a shared seeded tie-break (scikit-learn's `ndcg_score` wants a dense
requests x items matrix, averages tied scores instead of breaking them the same way for every
model, and does not leave out requests without a good item), AUC per user in one grouped pass
(GAUC), and a weighted calibration table (`calibration_curve` takes no sample weights and
returns no bin weights, which ECE needs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


def _weights(y: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    return np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)


def logloss(y: np.ndarray, p: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Mean binary cross-entropy in nats (scikit-learn's `log_loss`; both labels always known,
    so a one-class sample is scored too)."""
    from sklearn.metrics import log_loss

    p = np.asarray(p, dtype=float)
    return float(log_loss(np.asarray(y, dtype=float), p, sample_weight=weights, labels=[0, 1]))


def normalized_entropy(y: np.ndarray, p: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Log loss divided by the entropy of the base rate (He et al. 2014): below 1 beats the mean."""
    w = _weights(y, weights)
    rate = float(np.sum(w * np.asarray(y, dtype=float)) / w.sum())
    if rate in (0.0, 1.0):
        return float("nan")
    return logloss(y, p, w) / logloss(y, np.full(len(w), rate), w)


def grouped_auc(
    y: np.ndarray, s: np.ndarray, groups: np.ndarray, weights: np.ndarray | None = None
) -> pd.DataFrame:
    """Per group: ROC AUC (ties count one half; NaN without both classes) and total weight."""
    w = _weights(y, weights)
    frame = pd.DataFrame({"g": groups, "s": s, "pos": w * (y > 0), "neg": w * (y <= 0)})
    ties = frame.groupby(["g", "s"], sort=True)[["pos", "neg"]].sum()
    below = ties.groupby(level="g")["neg"].cumsum() - ties["neg"]
    ties["won"] = ties["pos"] * (below + 0.5 * ties["neg"])
    per = ties.groupby(level="g")[["pos", "neg", "won"]].sum()
    pairs = per["pos"] * per["neg"]
    auc = (per["won"] / pairs).where(pairs > 0)
    return pd.DataFrame({"auc": auc, "weight": per["pos"] + per["neg"]})


def auc(y: np.ndarray, s: np.ndarray, weights: np.ndarray | None = None) -> float:
    """ROC AUC: the chance a random positive outscores a random negative (ties count 1/2);
    scikit-learn's `roc_auc_score`, NaN (not an error) without both classes."""
    from sklearn.metrics import roc_auc_score

    y, w = np.asarray(y) > 0, _weights(y, weights)
    if not (w[y].sum() > 0 and w[~y].sum() > 0):
        return float("nan")
    return float(roc_auc_score(y, s, sample_weight=weights))


def slate_positions(positions: np.ndarray) -> np.ndarray:
    """Slate positions as group keys; a log without positions (an import) is one group."""
    return pd.Series(positions).astype("Float64").fillna(-1).to_numpy(dtype=float)


def gauc(
    y: np.ndarray, s: np.ndarray, users: np.ndarray, weights: np.ndarray | None = None
) -> float:
    """Per-user AUC averaged with impression weights, over users with both classes."""
    per = grouped_auc(y, s, users, weights).dropna()
    if per.empty:
        return float("nan")
    return float(np.average(per["auc"], weights=per["weight"]))


@dataclass(frozen=True)
class Ranked:
    """Rows ordered by (request, score desc, tiebreak); `rank` is 0-based within the request."""

    order: np.ndarray
    group: np.ndarray  # request code of each ordered row
    rank: np.ndarray


def rank_within(s: np.ndarray, groups: np.ndarray, tiebreak: np.ndarray | None = None) -> Ranked:
    codes, _ = pd.factorize(groups, sort=False)
    tiebreak = np.arange(len(s)) if tiebreak is None else tiebreak
    order = np.lexsort((tiebreak, -np.asarray(s, dtype=float), codes))
    group = codes[order]
    start = np.r_[0, np.flatnonzero(np.diff(group)) + 1]
    sizes = np.diff(np.r_[start, len(group)])
    rank = np.arange(len(group)) - np.repeat(start, sizes)
    return Ranked(order, group, rank)


def per_request(
    y: np.ndarray,
    s: np.ndarray,
    groups: np.ndarray,
    k: int,
    tiebreak: np.ndarray | None = None,
) -> pd.DataFrame:
    """NDCG@k, AP@k and reciprocal rank of each request that has a good item (binary gains).

    AP@k divides by min(k, good items); the reciprocal rank looks at the whole list.
    """
    r = rank_within(s, groups, tiebreak)
    rel = (np.asarray(y)[r.order] > 0).astype(float)
    top = r.rank < k
    hits_so_far = pd.Series(rel).groupby(r.group).cumsum().to_numpy()
    frame = pd.DataFrame(
        {
            "g": r.group,
            "rel": rel,
            "dcg": np.where(top, rel / np.log2(r.rank + 2), 0.0),
            "prec": np.where(top, rel * hits_so_far / (r.rank + 1), 0.0),
            "first": np.where(rel > 0, r.rank, np.iinfo(np.int64).max),
        }
    )
    per = frame.groupby("g").agg(
        good=("rel", "sum"), dcg=("dcg", "sum"), prec=("prec", "sum"), first=("first", "min")
    )
    per = per[per["good"] > 0]
    ideal_len = np.minimum(per["good"].to_numpy(), k).astype(int)
    discounts = np.cumsum(1.0 / np.log2(np.arange(k) + 2))
    return pd.DataFrame(
        {
            "ndcg": per["dcg"].to_numpy() / discounts[ideal_len - 1],
            "ap": per["prec"].to_numpy() / ideal_len,
            "rr": 1.0 / (per["first"].to_numpy() + 1),
        },
        index=per.index,
    )


def calibration_table(
    y: np.ndarray, p: np.ndarray, bins: int, weights: np.ndarray | None = None
) -> pd.DataFrame:
    """Equal-width probability bins: weight, mean prediction and observed rate of each."""
    w = _weights(y, weights)
    idx = np.minimum((np.asarray(p) * bins).astype(int), bins - 1)
    frame = pd.DataFrame({"bin": idx, "w": w, "wp": w * p, "wy": w * np.asarray(y, dtype=float)})
    per = frame.groupby("bin")[["w", "wp", "wy"]].sum()
    per = per[per["w"] > 0]
    return pd.DataFrame(
        {
            "lower": per.index / bins,
            "upper": (per.index + 1) / bins,
            "weight": per["w"],
            "predicted": per["wp"] / per["w"],
            "observed": per["wy"] / per["w"],
        }
    ).reset_index(drop=True)


def ece(y: np.ndarray, p: np.ndarray, bins: int, weights: np.ndarray | None = None) -> float:
    """Expected calibration error: the weight-averaged |observed - predicted| over the bins."""
    table = calibration_table(y, p, bins, weights)
    gap = (table["observed"] - table["predicted"]).abs()
    return float(np.sum(table["weight"] * gap) / table["weight"].sum())


def top_k_rates(
    good: np.ndarray,
    bad: np.ndarray,
    s: np.ndarray,
    groups: np.ndarray,
    k: int,
    tiebreak: np.ndarray | None = None,
    weights: np.ndarray | None = None,
) -> tuple[float, float]:
    """Good- and bad-engagement rates of the k items per request the model ranks highest."""
    r = rank_within(s, groups, tiebreak)
    keep = r.order[r.rank < k]
    w = _weights(good, weights)[keep]
    return (
        float(np.sum(w * np.asarray(good)[keep]) / w.sum()),
        float(np.sum(w * np.asarray(bad)[keep]) / w.sum()),
    )


def snips_top_k(
    good: np.ndarray,
    s: np.ndarray,
    groups: np.ndarray,
    propensity: np.ndarray,
    k: int,
    tiebreak: np.ndarray | None = None,
    weights: np.ndarray | None = None,
) -> float:
    """Self-normalised IPS estimate of the good rate per impression if the model showed its top k.

    Each logged impression the model keeps in its top k counts with weight 1 / propensity (the
    logging policy's chance of showing it), undoing the logger's preferences. The model's top k
    among the shown items stands in for its top k among all candidates (exact when every
    candidate was shown). Rows without a positive propensity (unknown policy) are left out.
    """
    r = rank_within(s, groups, tiebreak)
    keep = r.order[r.rank < k]
    prop = np.asarray(propensity, dtype=float)[keep]
    known = np.isfinite(prop) & (prop > 0)
    if not known.any():
        return float("nan")
    w = _weights(good, weights)[keep][known] / prop[known]
    return float(np.sum(w * np.asarray(good, dtype=float)[keep][known]) / w.sum())
