"""Which impressions are ranked together: a request's slate when the log has slates, else the
user's session (impressions with no pause longer than `session_gap_minutes`).

An export without request ids lands one request per user, item and day (the importer's
fallback), so every "request" holds one item: every model then scores NDCG 1.000 on it and the
gate compares noise. A session is what a web analyst would group instead; 30 minutes of
inactivity is the usual cut (Google Analytics' default).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from engageflow.settings import TrainingConfig

Grouping = Literal["request", "session"]


def requests_hold_slates(frame: pd.DataFrame) -> bool:
    """Whether at least half the impressions share their request with another impression."""
    sizes = frame.groupby("request_id", sort=False)["request_id"].transform("size")
    return bool((sizes.to_numpy() >= 2).mean() >= 0.5)


def resolve(frame: pd.DataFrame, config: TrainingConfig) -> Grouping:
    """`config.group_by`, with "auto" decided on `frame`: requests if they hold slates."""
    if config.group_by != "auto":
        return config.group_by
    return "request" if requests_hold_slates(frame) else "session"


def session_codes(users: np.ndarray, ts: np.ndarray, gap_minutes: float) -> np.ndarray:
    """A session number per row: a user's rows in time order, cut where a pause exceeds the
    gap."""
    order = np.lexsort((ts, users))
    users, ts = users[order], ts[order]
    new = np.ones(len(order), dtype=bool)
    gap = np.timedelta64(int(gap_minutes * 60e9), "ns")
    new[1:] = (users[1:] != users[:-1]) | ((ts[1:] - ts[:-1]) > gap)
    codes = np.empty(len(order), dtype=np.int64)
    codes[order] = np.cumsum(new) - 1
    return codes


def group_codes(frame: pd.DataFrame, grouping: Grouping, config: TrainingConfig) -> np.ndarray:
    """An integer group per row of `frame` under `grouping`."""
    if grouping == "request":
        # In order of appearance: sorted UUIDs would number the same requests differently.
        return pd.factorize(frame["request_id"], sort=False)[0].astype(np.int64)
    ts = pd.to_datetime(frame["ts"], utc=True).to_numpy(dtype="datetime64[ns]")
    return session_codes(frame["user_id"].to_numpy(), ts, config.session_gap_minutes)


def rankable_groups(y: np.ndarray, groups: np.ndarray) -> int:
    """Groups with a good item and another one: the only ones whose ranking metrics can differ
    between two models."""
    frame = pd.DataFrame({"g": groups, "good": np.asarray(y) > 0})
    per = frame.groupby("g")["good"].agg(["sum", "size"])
    return int(((per["sum"] > 0) & (per["size"] > per["sum"])).sum())


def describe(grouping: Grouping, config: TrainingConfig) -> str:
    """How a model's ranking metrics were grouped, for its run and the gate's verdict."""
    if grouping == "session":
        return f"session ({config.session_gap_minutes:g} min gap)"
    return "request"
