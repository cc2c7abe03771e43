"""The A/B test's data: every day, back from the monitored one, on which the canary served the
current challenger (at most `ab_max_days`), so the readout pools the whole test so far."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from engageflow.aliases import CHALLENGER
from engageflow.errors import DataError
from engageflow.registry import alias_version
from engageflow.schema import Policy
from engageflow.settings import Settings
from monitoring.served import day_events, labelled_impressions


def served_by(impressions: pd.DataFrame, version: int) -> pd.Series:
    """Rows the canary served with `version`."""
    canary = impressions["policy"] == Policy.CANARY.value
    return canary & (impressions["model_version"].astype(str) == str(version))


def experiment_window(
    settings: Settings, day: date, impressions: pd.DataFrame
) -> tuple[pd.DataFrame, int]:
    """(the pooled impressions, the number of days pooled) for the readout of `day`; the day
    alone when no challenger serves. Canary rows of other versions are left out."""
    challenger = alias_version(settings, CHALLENGER)
    if challenger is None or not served_by(impressions, challenger).any():
        return impressions, 1
    frames = [impressions]
    for back in range(1, settings.monitoring.ab_max_days):
        try:
            earlier = labelled_impressions(settings, day_events(settings, day - timedelta(back)))
        except DataError:  # not ingested: the test cannot reach further back
            break
        if not served_by(earlier, challenger).any():
            break
        frames.append(earlier)
    pooled = pd.concat(frames, ignore_index=True)
    keep = (pooled["policy"] != Policy.CANARY.value) | served_by(pooled, challenger)
    return pooled[keep], len(frames)
