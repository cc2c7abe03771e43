"""A movie-ratings export through the README's commands on defaults: import the ratings and one
catalog file, backfill every day (quiet ones too), train and gate a first model."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from engageflow import lake
from engageflow.importer import CatalogMapping, ColumnMapping, import_events, import_items
from engageflow.settings import Settings
from feature_repo.backfill import backfill
from tests.ratings_log import write_ratings_log
from training.pipeline import plan_window, run_all
from training.windows import Window


def _rows(settings: Settings, area: str, dataset: str, day: date) -> int:
    files = lake.partition_files(settings.root, area, dataset, day)
    return sum(pq.ParquetFile(f).metadata.num_rows for f in files)


def test_a_ratings_export_imports_backfills_and_trains_on_defaults(
    settings: Settings, tmp_path: Path
) -> None:
    log = write_ratings_log(tmp_path / "export")
    ratings = ColumnMapping(user="userId", item="movieId", timestamp="timestamp", rating="rating")
    imported = import_events(settings, log.ratings, ratings)
    catalog = CatalogMapping(item="movieId", topic="genres", topic_separator="|")
    items = import_items(settings, log.movies, catalog)
    days = items.days
    assert len(imported.files) == len(days) == 40  # the quiet days landed, empty

    assert backfill(settings, days) == days  # no day stops it, quiet or bursty
    for quiet in log.quiet_days:
        assert _rows(settings, "lake", "events", quiet.date()) == 0
        assert _rows(settings, "features", "user_engagement", quiet.date()) > 0  # windows
    assert not (settings.root / "quarantine").exists() or not any(
        (settings.root / "quarantine").rglob("report.json")
    )

    window = Window.from_dict(plan_window(settings, days[-1]))
    done = run_all(settings, days[-1])
    # About 10 rating sessions a day: the test window widened to hold 100 rankable groups.
    assert len(window.test) > 1 and window.test_end == days[-1]
    test = pd.read_parquet(next(settings.root.glob("training/*/*/test.parquet")))
    assert test["ts"].min().date() == window.test_start
    assert not any("cannot judge" in reason for reason in done["reasons"]), done["reasons"]
