"""A movie-ratings export through the README's commands on defaults: import the ratings and one
catalog file, backfill every day (quiet ones too), train and gate a first model."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from engageflow import lake
from engageflow.aliases import promote
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

    settings.training.feature_service = "ranker_v2"  # v1 plus the long-horizon histories
    window = Window.from_dict(plan_window(settings, days[-1]))
    done = run_all(settings, days[-1])
    # About 10 rating sessions a day: the test window widened to hold 100 rankable groups.
    assert len(window.test) > 1 and window.test_end == days[-1]
    test = pd.read_parquet(next(settings.root.glob("training/*/*/test.parquet")))
    assert test["ts"].min().date() == window.test_start
    # A ratings log records only engagements: each rating got sampled unrated items beside it.
    rated = sum(len(lake.read_partition(settings.root, "lake", "events", d)) for d in window.test)
    assert len(test) > 2 * rated / 3  # 3 events a rating at most: impression, click, like/hide
    assert not any("cannot judge" in reason for reason in done["reasons"]), done["reasons"]

    # Every user ever seen keeps a long-horizon row, however long ago they rated.
    events = pd.concat(
        lake.read_partition(settings.root, "lake", "events", day).to_pandas() for day in days
    )
    history = lake.read_partition(settings.root, "features", "user_history", days[-1])
    assert set(history.column("user_id").to_pylist()) == set(events["user_id"])
    # A ranker_v1 model after a ranker_v2 champion: the gate scores the champion on its own
    # FeatureService's features (which v1's lacks), joined to the same test rows.
    promote(settings, 1, "the real-log test's champion", "test")
    settings.training.feature_service = "ranker_v1"
    second = run_all(settings, days[-1])
    assert (second["version"], second["reference"]) == (2, "champion v1"), second["reasons"]
    test = pd.read_parquet(sorted(settings.root.glob("training/*/*/test.parquet"))[-1])
    assert "user_lt_good_rate" in test.columns  # joined for the champion, not a v1 feature
