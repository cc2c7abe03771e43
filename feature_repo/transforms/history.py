"""Long-horizon profiles: exponentially decayed lifetime sums per user or item, carried from one
day's table to the next, so a key seen once keeps a row in every later table (a user back after
60 days is known to the model, not a stranger).

An impression shown at t weighs 0.5 ** ((end - t) / half_life) at the window end, so carrying
yesterday's sums forward (times 0.5 ** (1 day / half_life)) and adding today's impressions is
exact, whatever the step. Labels are as known at the day's end, like every daily table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from feature_repo.transforms.labelled import DAY, decay, stamped

SUMS = ("impressions", "clicks", "good", "bad")
RATES = {"ctr": "clicks", "good_rate": "good", "bad_rate": "bad"}


@dataclass(frozen=True)
class Taste:
    """Item vectors (the day's item_embedding) that a user's good engagements add up."""

    ids: pd.Index  # item ids, one per row of `vectors`
    vectors: np.ndarray  # (items, dim)

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    def of(self, items: pd.Series) -> np.ndarray:
        """The vectors of `items` (zeros for an item without one)."""
        where = self.ids.get_indexer(items.astype(str))
        padded = np.vstack([self.vectors, np.zeros((1, self.dim))])
        return padded[np.where(where >= 0, where, len(self.ids))]

    @classmethod
    def from_table(cls, table: pd.DataFrame | None, dim: int) -> Taste:
        """From an item_embedding table (None: no vectors yet, every item adds zeros)."""
        if table is None or not len(table):
            return cls(pd.Index([], dtype=str), np.zeros((0, dim)))
        vectors = np.stack(table["embedding"].to_numpy()).astype(float)
        return cls(pd.Index(table["item_id"].astype(str)), vectors)


def decayed_history(
    previous: pd.DataFrame | None,
    labelled: pd.DataFrame,
    key: str,
    end: datetime,
    half_life_days: float,
    prior: float,
    taste: Taste | None = None,
) -> pd.DataFrame:
    """Every key of `previous` (a table of this function, any earlier stamp) and of the
    impressions in `labelled` before `end`, with sums decayed to `end`.

    Rates are shrunk toward the whole population's decayed rate by `prior` pseudo-impressions,
    so a key seen twice gets a sober estimate (the fallback ranks new items by it). With
    `taste`, each key also gets `<prefix>lt_taste`: the decayed sum of the vectors of the items
    it engaged with well (its direction is the user's taste in the item embedding's basis).
    """
    prefix = f"{key.split('_')[0]}_lt_"
    stamp = pd.Timestamp(end)
    shown = labelled[labelled["ts"] < stamp]
    weight = decay(shown["ts"], stamp, half_life_days)
    today = pd.DataFrame(
        {
            key: shown[key].to_numpy(),
            "impressions": weight,
            "clicks": weight * shown["clicked"].to_numpy(dtype=float),
            "good": weight * shown["good"].to_numpy(dtype=float),
            "bad": weight * shown["bad"].to_numpy(dtype=float),
            "last_seen": pd.to_datetime(shown["ts"], utc=True).reset_index(drop=True),
        }
    )
    sums = list(SUMS)
    if taste is not None:
        coordinates = taste.of(shown["item_id"]) * (weight * shown["good"].to_numpy(float))[:, None]
        sums += [f"v{i}" for i in range(taste.dim)]
        today[sums[len(SUMS) :]] = coordinates
    rule = {**dict.fromkeys(sums, "sum"), "last_seen": "max"}
    parts = [today.groupby(key).agg(rule)]
    if previous is not None and len(previous):
        parts.append(_carried(previous, key, prefix, stamp, half_life_days, taste))
    state = pd.concat(parts).groupby(level=0).agg(rule).sort_index()
    columns = {f"{prefix}{name}": state[name].astype("float32") for name in SUMS}
    total = max(float(state["impressions"].sum()), 1e-12)
    for rate, numerator in RATES.items():
        overall = float(state[numerator].sum()) / total
        shrunk = (state[numerator] + prior * overall) / (state["impressions"] + prior)
        columns[f"{prefix}{rate}"] = shrunk.clip(0, 1).astype("float32")
    last = pd.to_datetime(state["last_seen"], utc=True)
    columns[f"{prefix}days_since_seen"] = ((stamp - last) / DAY).astype("float32")
    columns[f"{prefix}last_seen_epoch_s"] = last.to_numpy(dtype="datetime64[s]").astype(np.int64)
    frame = pd.DataFrame(columns, index=state.index.rename(key))
    if taste is not None:
        vectors = state[sums[len(SUMS) :]].to_numpy(dtype="float32")
        frame[f"{prefix}taste"] = list(vectors)
    return stamped(frame.reset_index(), end)


def _carried(
    previous: pd.DataFrame,
    key: str,
    prefix: str,
    stamp: pd.Timestamp,
    half_life_days: float,
    taste: Taste | None,
) -> pd.DataFrame:
    """The previous table's sums decayed from its stamp to `stamp`, keyed like today's."""
    factor = decay(previous["event_timestamp"], stamp, half_life_days)
    carried = pd.DataFrame(
        {name: previous[f"{prefix}{name}"].to_numpy(dtype=float) * factor for name in SUMS}
    )
    if taste is not None:
        column = f"{prefix}taste"
        old = np.zeros((len(previous), taste.dim))
        if column in previous and len(previous):
            stored = np.stack(previous[column].to_numpy())
            if stored.shape[1] == taste.dim:  # else the dimension setting changed: start over
                old = stored.astype(float)
        carried[[f"v{i}" for i in range(taste.dim)]] = old * factor[:, None]
    epoch = previous[f"{prefix}last_seen_epoch_s"].to_numpy(dtype=np.int64)
    carried["last_seen"] = pd.to_datetime(epoch, unit="s", utc=True)
    carried.index = pd.Index(previous[key].to_numpy(), name=key)
    return carried
