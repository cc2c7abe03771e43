"""Sampled negatives for logs that record only engagements: in a ratings export every
"impression" is a rating, so nothing says what a user saw and passed over.

Trained on such a log alone, a model learns which rated items were rated well, never which
items get engaged with at all, and ranking a user's candidates (rated and not) it does no better
than popularity (benchmarks.real_log). So each impression gets `training.sampled_negatives`
items of the day's catalog, drawn uniformly, that the user did not engage with that day: shown
at the same moment in the same request, not engaged with (implicit-feedback practice, as in
BPR's sampling of unobserved items).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# A log whose impressions are clicked at least this often records engagements only (a feed
# with real impressions sits far below: the simulator's CTR is about 10%).
ENGAGED_ONLY = 0.99
FLAGS = ("clicked", "liked", "shared", "hidden", "reported", "good", "bad")


def records_only_engagements(impressions: pd.DataFrame) -> bool:
    """Whether (nearly) every impression was clicked: no impression says what was passed over."""
    return len(impressions) > 0 and float(impressions["clicked"].mean()) >= ENGAGED_ONLY


def with_sampled_negatives(
    impressions: pd.DataFrame, catalog: np.ndarray, per_impression: int, seed: int
) -> pd.DataFrame:
    """`impressions` plus `per_impression` unengaged catalog items for each, in its request and
    at its time; a draw that hits an item the user engaged with that day is dropped."""
    if per_impression == 0 or len(catalog) == 0 or impressions.empty:
        return impressions
    rng = np.random.default_rng(seed)
    source = impressions.loc[impressions.index.repeat(per_impression)].reset_index(drop=True)
    source["item_id"] = rng.choice(catalog, size=len(source))
    engaged = set(zip(impressions["user_id"], impressions["item_id"], strict=True))
    keep = [
        (u, i) not in engaged for u, i in zip(source["user_id"], source["item_id"], strict=True)
    ]
    sampled = source[keep].drop_duplicates(["request_id", "item_id"])
    sampled = sampled.assign(
        event_id=sampled["event_id"].astype(str) + "-sampled",
        dwell_seconds=np.nan,
        propensity=np.nan,
        position=pd.NA,
        **dict.fromkeys(FLAGS, False),
    )
    return pd.concat([impressions, sampled], ignore_index=True)
