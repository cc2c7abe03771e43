"""The good-engagement rate a monitored day is held against: the rate users got on the newest
served days before it that were not themselves drift, pooled over their impressions; days the
same champion served come first.

Why served days and not the champion's training data: the training days may have been served by
another policy (the popularity fallback before the first champion, an older champion), whose
rate says nothing about what users get now. Drifted days are skipped so that an episode does
not become its own norm. A new champion has no days of its own yet: the days before it stand
in (it passed the gate against the champion that served them). With no undrifted day in the
lookback, the champion's training data is the reference after all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from engageflow import lake
from engageflow.settings import Settings
from engageflow.summary import day_summary
from monitoring.stored import stored_summary


@dataclass(frozen=True)
class Baseline:
    good_rate: float
    source: str  # what the rate was measured on, for the verdict's reason


def undrifted_days(settings: Settings, day: date) -> list[tuple[date, int | None]]:
    """(day, champion that served it) for the lake days before `day` within the lookback that
    monitoring did not call drift, newest first; champion None when unmonitored or before any."""
    have = set(lake.partition_days(settings.root, "lake", "events"))
    found = []
    for back in range(1, settings.monitoring.baseline_lookback_days + 1):
        earlier = day - timedelta(days=back)
        summary = stored_summary(settings, earlier) or {}
        if earlier in have and not (summary.get("verdict") or {}).get("drift"):
            found.append((earlier, summary.get("champion")))
    return found


def served_baseline(settings: Settings, day: date, champion: int | None) -> Baseline | None:
    """The pooled good rate of the newest `baseline_days` undrifted days `champion` served,
    else of any undrifted days; None when there is none."""
    days = undrifted_days(settings, day)
    own = [d for d, by in days if champion is not None and by == champion]
    chosen = sorted((own or [d for d, _ in days])[: settings.monitoring.baseline_days])
    served = [day_summary(settings, d) for d in chosen]
    shown = sum(s["impressions"] for s in served)
    if not shown:
        return None
    rate = sum(s["good_rate"] * s["impressions"] for s in served) / shown
    by = f" by v{champion}" if own else ""
    return Baseline(rate, f"served{by} " + ", ".join(d.isoformat() for d in chosen))
