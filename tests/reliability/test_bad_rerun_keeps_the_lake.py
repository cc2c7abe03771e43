"""A day already in the lake, rerun with a bad batch landed beside it: the run fails and every
stored file outside the day's quarantine stays byte for byte (the lake keeps the good day)."""

from __future__ import annotations

from datetime import date

import pytest
from bad_landings import BAD_INPUTS, good_events
from stored import tree

from engageflow import lake
from engageflow.app.simulate import simulate
from engageflow.settings import Settings
from engageflow.simulator import POLICIES
from expectations.gate import QualityGateFailed
from expectations.ingest import ingest_day, ingest_events

pytestmark = pytest.mark.integration

DAY = date(2026, 1, 1)
BATCH_KINDS = [kind for kind, bad in BAD_INPUTS.items() if bad.batch]


@pytest.mark.parametrize("kind", BATCH_KINDS)
def test_a_bad_rerun_changes_nothing_stored(settings: Settings, kind: str) -> None:
    list(simulate(settings, 1, POLICIES["random"], start=DAY))
    ingest_day(settings, DAY)
    landing = lake.partition_dir(settings.root, "landing", "events", DAY)
    planted = BAD_INPUTS[kind].plant(landing, good_events(settings.root, DAY), DAY)
    before = tree(settings.root, "quarantine")

    with pytest.raises(QualityGateFailed, match=planted.name):
        ingest_events(settings, DAY)
    assert tree(settings.root, "quarantine") == before
