"""Real `ingest_events` DAG runs through the quality gate: row-level bad passes, batch bad fails."""

from __future__ import annotations

import json
from datetime import date

from bad_landings import BAD_INPUTS, SAMPLE, good_events
from test_ingest_dag import _run

from engageflow import lake
from engageflow.app.simulate import simulate
from engageflow.settings import Settings
from engageflow.simulator import POLICIES
from expectations.quarantine import quarantine_dir

DAY = date(2026, 1, 1)


def _plant(settings: Settings, kind: str) -> int:
    (done,) = simulate(settings, 1, POLICIES["random"], start=DAY)
    landing = lake.partition_dir(settings.root, "landing", "events", DAY)
    BAD_INPUTS[kind].plant(landing, good_events(settings.root, DAY), DAY)
    return done.rows


def test_row_level_bad_day_succeeds_and_quarantines(dagbag, settings: Settings) -> None:
    good = _plant(settings, "unknown_items")
    assert _run(dagbag, DAY) == "success"
    report = json.loads((quarantine_dir(settings.root, "events", DAY) / "report.json").read_text())
    assert (report["rows_in"], report["rows_quarantined"]) == (good + SAMPLE, 3)
    lake_rows = lake.read_partition(settings.root, "lake", "events", DAY).num_rows
    assert lake_rows == report["rows_accepted"] == good + SAMPLE - 3


def test_batch_bad_day_fails_the_run(dagbag, settings: Settings) -> None:
    _plant(settings, "truncated_file")
    assert _run(dagbag, DAY) == "failed"
    report = json.loads((quarantine_dir(settings.root, "events", DAY) / "report.json").read_text())
    assert report["status"] == "failed"
    assert (quarantine_dir(settings.root, "events", DAY) / "files" / "truncated.parquet").exists()
    assert not lake.partition_dir(settings.root, "lake", "events", DAY).exists()
