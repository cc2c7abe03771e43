"""Good and bad engagement, defined once for training, monitoring and reports.

good engagement: a click with dwell at or above `good_dwell_seconds` and no hide or report.
bad engagement:  a click that bounced (dwell below `bounce_dwell_seconds`), or a hide or report.
A click between the two thresholds is neither: it is engagement we do not reward or punish.
Where a log measured no dwell (e.g. imported ratings), a like stands in for a long dwell.
"""

from __future__ import annotations

import pandas as pd

from engageflow.schema import EventType
from engageflow.settings import LabelConfig

IMPRESSION_KEY = ["request_id", "item_id"]


def impression_labels(events: pd.DataFrame, config: LabelConfig) -> pd.DataFrame:
    """One row per impression, with what the user did with it and the two labels.

    Events without a matching impression (e.g. imported logs with clicks only) are kept: the
    impression's own columns are then taken from the first event of that request and item.
    """
    kinds = events["event_type"]
    flags = pd.DataFrame(
        {
            "clicked": kinds.eq(EventType.CLICK),
            "liked": kinds.eq(EventType.LIKE),
            "shared": kinds.eq(EventType.SHARE),
            "hidden": kinds.eq(EventType.HIDE),
            "reported": kinds.eq(EventType.REPORT),
            "dwell": events["dwell_seconds"].where(kinds.eq(EventType.CLICK)),
        }
    )
    keyed = pd.concat([events[IMPRESSION_KEY], flags], axis=1)
    response = keyed.groupby(IMPRESSION_KEY, sort=False, dropna=False).agg(
        clicked=("clicked", "any"),
        liked=("liked", "any"),
        shared=("shared", "any"),
        hidden=("hidden", "any"),
        reported=("reported", "any"),
        dwell_seconds=("dwell", "max"),
    )
    shown = (
        events.assign(_first=~kinds.eq(EventType.IMPRESSION))
        .sort_values("_first", kind="stable")
        .drop_duplicates(IMPRESSION_KEY)
        .drop(columns=["_first", "event_type", "dwell_seconds"])
        .set_index(IMPRESSION_KEY)
    )
    out = shown.join(response, how="inner").reset_index()
    out["good"], out["bad"] = engagement_labels(out, config)
    return out


def engagement_labels(response: pd.DataFrame, config: LabelConfig) -> tuple[pd.Series, pd.Series]:
    """(good, bad) for frames with clicked, liked, dwell_seconds, hidden and reported columns."""
    dwell = response["dwell_seconds"]
    stayed = (dwell >= config.good_dwell_seconds) | (dwell.isna() & response["liked"])
    negative = response["hidden"] | response["reported"]
    good = response["clicked"] & stayed & ~negative
    bad = (response["clicked"] & (dwell < config.bounce_dwell_seconds)) | negative
    return good, bad
