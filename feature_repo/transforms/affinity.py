"""How much a user likes each topic: good-engagement rates per topic, shrunk towards priors."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from feature_repo.transforms.labelled import DAY, active_keys, stamped


def topic_count(catalog: pd.DataFrame) -> int:
    """Length of every affinity array: topic ids index it, so it spans 0..max topic."""
    return int(catalog["topic"].max()) + 1


def user_topic_affinity(
    labelled: pd.DataFrame, catalog: pd.DataFrame, end: datetime, days: int, prior: float
) -> pd.DataFrame:
    """One `topic_affinity` array per user active in the last `days` + 1 days, stamped `end`.

    affinity[k] = (good_k + prior * r_user) / (shown_k + prior), where
    r_user = (good + prior * r_all) / (shown + prior) and r_all is everyone's good rate.
    A user with nothing shown in the window gets r_all everywhere (a closing row).
    """
    topics = topic_count(catalog)
    keys = active_keys(labelled, "user_id", end, days + 1)
    window = labelled[labelled["ts"] >= end - days * DAY]
    topic_of = catalog.set_index("item_id")["topic"]
    window = window.assign(topic=window["item_id"].map(topic_of)).dropna(subset=["topic"])
    good = _matrix(window, keys, topics, window["good"].astype("float64"))
    shown = _matrix(window, keys, topics, pd.Series(1.0, index=window.index))
    r_all = good.sum() / shown.sum() if shown.sum() else 0.0
    r_user = (good.sum(axis=1) + prior * r_all) / (shown.sum(axis=1) + prior)
    affinity = (good + prior * r_user[:, None]) / (shown + prior)
    frame = pd.DataFrame({"user_id": keys})
    frame["topic_affinity"] = list(affinity.astype("float32"))
    return stamped(frame, end)


def _matrix(window: pd.DataFrame, keys: pd.Index, topics: int, values: pd.Series) -> np.ndarray:
    """Sum `values` into a (user, topic) matrix over the rows of `keys`."""
    out = np.zeros((len(keys), topics))
    rows = keys.get_indexer(window["user_id"])
    kept = rows >= 0
    np.add.at(out, (rows[kept], window["topic"].to_numpy(int)[kept]), values.to_numpy()[kept])
    return out
