"""Backfill without Airflow: ingest landed days and build their offline features, then apply.

What `ingest_events` and `build_features` do per day, in one call for tests, benchmarks and
local experiments; the DAGs remain the way to run the loop.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from engageflow.settings import Settings
from expectations.ingest import ingest_day
from feature_repo.apply import apply_if_changed
from feature_repo.offline import build_offline


def backfill(settings: Settings, days: Iterable[date]) -> list[date]:
    """Ingest and build features for each day in order; `feast apply` once at the end."""
    done = []
    for day in days:
        ingest_day(settings, day)
        build_offline(settings, day)
        done.append(day)
    apply_if_changed(settings)
    return done
