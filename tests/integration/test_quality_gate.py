"""The ingest gate on each kind of bad input: every landed row is accepted or quarantined."""

from __future__ import annotations

import hashlib
import json
from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from bad_landings import BAD_INPUTS, SAMPLE, BadInput, good_events

from engageflow import lake
from engageflow.app.simulate import simulate
from engageflow.settings import Settings
from engageflow.simulator import POLICIES
from expectations.checks import CatalogMissing
from expectations.gate import QualityGateFailed
from expectations.ingest import ingest_catalog, ingest_events
from expectations.quarantine import quarantine_dir

DAY = date(2026, 1, 1)


def _digests(folder) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


@pytest.fixture
def good_day(settings: Settings) -> int:
    """A simulated day in the landing zone with its catalog ingested; returns its event count."""
    (done,) = simulate(settings, 1, POLICIES["random"], start=DAY)
    ingest_catalog(settings, DAY)
    return done.rows


@pytest.mark.parametrize("kind", list(BAD_INPUTS))
def test_every_landed_row_is_accepted_or_quarantined(
    kind: str, settings: Settings, good_day: int
) -> None:
    bad: BadInput = BAD_INPUTS[kind]
    landing = lake.partition_dir(settings.root, "landing", "events", DAY)
    planted = bad.plant(landing, good_events(settings.root, DAY), DAY)
    before = _digests(landing)
    quarantine = quarantine_dir(settings.root, "events", DAY)

    if bad.batch:
        with pytest.raises(QualityGateFailed) as failed:
            ingest_events(settings, DAY)
        report = failed.value.report
        assert planted.name in str(failed.value) and str(quarantine) in str(failed.value)
        assert bad.check in str(failed.value)
        assert report["rows_in"] == report["rows_accepted"] + report["rows_quarantined"]
        assert report["rows_accepted"] == 0
        assert report["rows_in"] == good_day + (SAMPLE if kind.endswith("column") else 0)
        assert not lake.partition_dir(settings.root, "lake", "events", DAY).exists()
        assert _digests(quarantine / "files") == before  # whole files, byte for byte
    else:
        done = ingest_events(settings, DAY)
        report = json.loads((quarantine / "report.json").read_text())
        assert done.rows_in == good_day + SAMPLE == report["rows_in"]
        assert done.rows_quarantined == bad.bad_rows == report["rows_quarantined"]
        assert done.rows_in == done.rows + done.rows_quarantined
        assert lake.read_partition(settings.root, "lake", "events", DAY).num_rows == done.rows
        rows = pq.read_table(quarantine / "rows.parquet")
        assert rows.num_rows == bad.bad_rows
        assert set(rows["source_file"].to_pylist()) == {planted.name}
        assert all(bad.check in checks for checks in rows["failed_expectations"].to_pylist())
        assert all(rows.schema.field(n).type == pa.string() for n in ("ts", "dwell_seconds"))
        assert report["status"] == "passed"
        assert sum(report["row_failures"].values()) >= bad.bad_rows
    assert _digests(landing) == before  # landing files are never modified
    assert report["dataset"] == "events" and planted.name in {f["name"] for f in report["files"]}
    result = json.loads((quarantine / "validation" / "events.json").read_text())
    assert result["success"] is False or bad.batch
    assert "<html" in (quarantine / "validation" / "events.html").read_text().lower()


def test_quarantined_rows_keep_their_original_values(settings: Settings, good_day: int) -> None:
    BAD_INPUTS["wrong_types"].plant(
        lake.partition_dir(settings.root, "landing", "events", DAY),
        good_events(settings.root, DAY),
        DAY,
    )
    ingest_events(settings, DAY)
    rows = pq.read_table(quarantine_dir(settings.root, "events", DAY) / "rows.parquet")
    assert "abc" in rows["dwell_seconds"].to_pylist()
    assert "yesterday" in rows["ts"].to_pylist()
    assert rows["conversion_errors"].to_pylist() == [
        "dwell_seconds does not convert to float",
        "ts does not convert to timestamp[us, tz=UTC]",
    ]


def test_a_clean_rerun_replaces_the_quarantine(settings: Settings, good_day: int) -> None:
    landing = lake.partition_dir(settings.root, "landing", "events", DAY)
    planted = BAD_INPUTS["nulls"].plant(landing, good_events(settings.root, DAY), DAY)
    assert ingest_events(settings, DAY).rows_quarantined == 3
    planted.unlink()  # the operator removes the bad drop and reruns the day
    again = ingest_events(settings, DAY)
    assert (again.rows_in, again.rows, again.rows_quarantined) == (good_day, good_day, 0)
    assert not quarantine_dir(settings.root, "events", DAY).exists()


def test_ctr_out_of_bounds_fails_the_batch(settings: Settings, good_day: int) -> None:
    strict = settings.model_copy(
        update={"quality": settings.quality.model_copy(update={"ctr_max": 0.01})}
    )
    with pytest.raises(QualityGateFailed, match=r"expect_column_values_to_be_between\(ctr\)"):
        ingest_events(strict, DAY)
    report = json.loads((quarantine_dir(settings.root, "events", DAY) / "report.json").read_text())
    assert report["status"] == "failed" and report["rows_quarantined"] == good_day
    assert (
        quarantine_dir(settings.root, "events", DAY) / "validation" / "daily_stats.html"
    ).exists()


def test_volume_is_checked_against_recent_days(settings: Settings, good_day: int) -> None:
    ingest_events(settings, DAY)
    (second,) = simulate(settings, 1, POLICIES["random"], start=date(2026, 1, 2))
    ingest_catalog(settings, second.day)
    greedy = settings.model_copy(
        update={"quality": settings.quality.model_copy(update={"volume_min_ratio": 2.0})}
    )
    with pytest.raises(QualityGateFailed, match="expect_table_row_count_to_be_between") as failed:
        ingest_events(greedy, second.day)
    assert f"'min_value': {2 * good_day}" in str(failed.value)
    assert ingest_events(settings, second.day).rows == second.rows


def test_bad_catalog_rows_are_quarantined(settings: Settings) -> None:
    (done,) = simulate(settings, 1, POLICIES["random"], start=DAY)
    items = pq.read_table(done.items)
    topic = items["topic"].to_pylist()
    broken = items.set_column(
        2, pa.field("topic", pa.int16()), pa.array([-1, *topic[1:]], pa.int16())
    )
    pq.write_table(broken, done.items)
    catalog = ingest_catalog(settings, DAY)
    assert (catalog.rows_in, catalog.rows_quarantined) == (items.num_rows, 1)
    rows = pq.read_table(quarantine_dir(settings.root, "items", DAY) / "rows.parquet")
    assert rows["topic"].to_pylist() == ["-1"]


def test_a_catalog_mostly_refused_fails_naming_the_column(settings: Settings) -> None:
    (done,) = simulate(settings, 1, POLICIES["random"], start=DAY)
    items = pq.read_table(done.items)
    column = items.schema.get_field_index("creator_id")
    blank = pa.nulls(items.num_rows, pa.string())
    field = items.schema.field(column).with_nullable(True)  # an export that left it empty
    pq.write_table(items.set_column(column, field, blank), done.items)
    with pytest.raises(QualityGateFailed) as failed:
        ingest_catalog(settings, DAY)
    message = str(failed.value)
    assert f"most rows failed: {items.num_rows:,} of {items.num_rows:,} (100%)" in message
    assert "expect_column_values_to_not_be_null(creator_id)" in message
    assert not lake.partition_dir(settings.root, "lake", "items", DAY).exists()
    report = json.loads((quarantine_dir(settings.root, "items", DAY) / "report.json").read_text())
    assert (report["status"], report["rows_quarantined"]) == ("failed", items.num_rows)


def test_events_wait_for_their_days_catalog(settings: Settings, good_day: int) -> None:
    (second,) = simulate(settings, 1, POLICIES["random"], start=date(2026, 1, 2))
    with pytest.raises(CatalogMissing, match="Ingest the catalog first"):
        ingest_events(settings, second.day)
    assert not lake.partition_dir(settings.root, "lake", "events", second.day).exists()
