"""Users' static attributes as of the window end: what the newest user snapshot says."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from feature_repo.transforms.labelled import DAY, stamped

COLUMNS = ["user_id", "user_age_band", "user_region", "user_tenure_days", "user_declared_topics"]


def user_attributes(users: pd.DataFrame | None, end: datetime) -> pd.DataFrame:
    """One row per user known at `end` (signed up before it, or signup unknown): age band,
    region code, days since signup and declared topics as a 0/1 vector indexed by topic."""
    if users is None or users.empty:
        return stamped(pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS}), end)
    known = users[~(users["signup_at"] >= end)].sort_values("user_id")
    tenure = (pd.Timestamp(end) - known["signup_at"]) / DAY
    frame = pd.DataFrame(
        {
            "user_id": known["user_id"].astype(str).to_numpy(),
            "user_age_band": known["age_band"].astype("float32").to_numpy(),
            "user_region": known["region"].astype("float32").to_numpy(),
            "user_tenure_days": tenure.astype("float32").to_numpy(),
            "user_declared_topics": [_multi_hot(t) for t in known["declared_topics"]],
        }
    )
    return stamped(frame, end)


def _multi_hot(topics) -> np.ndarray:
    """1 at each declared topic; empty when none was declared (unknown, not "none liked")."""
    if topics is None or len(topics) == 0:
        return np.zeros(0, dtype=np.float32)
    vector = np.zeros(int(max(topics)) + 1, dtype=np.float32)
    vector[np.asarray(topics, dtype=int)] = 1.0
    return vector
