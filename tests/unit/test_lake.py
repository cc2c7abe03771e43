from datetime import date

import pyarrow as pa

from engageflow import lake
from engageflow.settings import Settings

DAY = date(2026, 1, 2)


def test_partition_layout(settings: Settings) -> None:
    folder = lake.partition_dir(settings.root, "lake", "events", DAY)
    assert folder == settings.root / "lake" / "events" / "date=2026-01-02"


def test_rewrite_replaces_and_leaves_no_temp_files(settings: Settings) -> None:
    lake.write_partition(pa.table({"x": [1, 2, 3]}), settings.root, "lake", "t", DAY)
    lake.write_partition(pa.table({"x": [4]}), settings.root, "lake", "t", DAY)
    folder = lake.partition_dir(settings.root, "lake", "t", DAY)
    assert [p.name for p in folder.iterdir()] == [lake.PART_FILE]
    assert lake.read_partition(settings.root, "lake", "t", DAY).column("x").to_pylist() == [4]


def test_missing_partition_reads_as_none(settings: Settings) -> None:
    assert lake.read_partition(settings.root, "lake", "t", DAY) is None
    assert list(lake.partition_days(settings.root, "lake", "t")) == []


def test_partition_days_are_sorted(settings: Settings) -> None:
    for day in (date(2026, 1, 3), date(2026, 1, 1)):
        lake.write_partition(pa.table({"x": [1]}), settings.root, "lake", "t", day)
    assert list(lake.partition_days(settings.root, "lake", "t")) == [
        date(2026, 1, 1),
        date(2026, 1, 3),
    ]


def test_day_bounds_are_utc_and_one_day_long() -> None:
    start, end = lake.day_bounds(DAY)
    assert start.isoformat() == "2026-01-02T00:00:00+00:00"
    assert (end - start).days == 1
