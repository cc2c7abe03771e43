"""What the catalog says about each item, as of the window end."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from feature_repo.transforms.labelled import stamped

FLOATS = ("headline_sensationalism", "production_score", "duration_seconds")


def item_profile(catalog: pd.DataFrame, end: datetime) -> pd.DataFrame:
    """One row per item created before `end`: topic, creator, creation time (epoch s), metadata."""
    known = catalog[catalog["created_at"] < end].sort_values("item_id")
    frame = pd.DataFrame(
        {
            "item_id": known["item_id"].astype(str).to_numpy(),
            "topic": known["topic"].astype("int64").to_numpy(),
            "creator_id": known["creator_id"].astype(str).to_numpy(),
            "created_at_epoch_s": _epoch_seconds(known["created_at"]),
        }
    )
    for column in FLOATS:
        frame[column] = known[column].astype("float32").to_numpy()
    return stamped(frame, end)


def _epoch_seconds(times: pd.Series) -> pd.Series:
    return ((times - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).astype("int64").values
