"""`engageflow import-items`: one catalog file becomes a snapshot per day of the imported log."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from engageflow.app.cli import app
from engageflow.importer import (
    CatalogMapping,
    ColumnMapping,
    ImportInputError,
    import_events,
    import_items,
)
from engageflow.settings import Settings
from expectations.ingest import ingest_catalog, ingest_events

LOG = """user,film,when,stars
u1,f1,2026-02-01T10:00:00Z,5
u1,f2,2026-02-01T10:03:00Z,2
u2,f2,2026-02-03T09:00:00Z,4
"""
CATALOG = """film,released,genres,studio,minutes
f1,1957-05-01T00:00:00Z,Drama|Crime,s1,5400
f2,2026-02-01T08:00:00Z,Comedy,s2,
f3,2026-02-02T12:00:00Z,Drama,s1,3000
"""
RATINGS = ColumnMapping(user="user", item="film", timestamp="when", rating="stars")
FILMS = CatalogMapping(
    item="film",
    created_at="released",
    topic="genres",
    topic_separator="|",
    creator="studio",
    duration="minutes",
)
DAYS = [date(2026, 2, 1), date(2026, 2, 2), date(2026, 2, 3)]


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _snapshot(settings: Settings, day: date) -> pd.DataFrame:
    folder = settings.root / "landing" / "items" / f"date={day}"
    return pd.concat(pd.read_parquet(p) for p in sorted(folder.glob("*.parquet")))


def test_one_catalog_lands_a_snapshot_per_day_of_the_log(
    settings: Settings, tmp_path: Path
) -> None:
    import_events(settings, _write(tmp_path, "log.csv", LOG), RATINGS)
    done = import_items(settings, _write(tmp_path, "films.csv", CATALOG), FILMS)
    assert done.days == DAYS  # the log's span, its quiet 2 February included
    assert [sorted(_snapshot(settings, d)["item_id"]) for d in DAYS] == [
        ["f1", "f2"],
        ["f1", "f2", "f3"],
        ["f1", "f2", "f3"],
    ]
    films = _snapshot(settings, DAYS[-1]).set_index("item_id")
    assert films.loc["f1", "created_at"] == pd.Timestamp("1957-05-01", tz="UTC")
    assert films.loc["f1", "topic"] == films.loc["f3", "topic"]  # Drama, before the "|"
    assert films.loc["f1", "topic"] != films.loc["f2", "topic"]
    assert films.loc["f1", "duration_seconds"] == 5400
    assert pd.isna(films.loc["f2", "duration_seconds"])
    # What the gate expects: every day ingests, the quiet one as a valid, empty day.
    for day in DAYS:
        assert ingest_catalog(settings, day).rows == len(_snapshot(settings, day))
    rows = [ingest_events(settings, day).rows for day in DAYS]
    assert rows == [6, 0, 3]  # impression + click (+ like or hide) per rating


def test_without_creation_times_items_date_from_their_first_event(
    settings: Settings, tmp_path: Path
) -> None:
    import_events(settings, _write(tmp_path, "log.csv", LOG), RATINGS)
    done = import_items(settings, _write(tmp_path, "films.csv", CATALOG), CatalogMapping("film"))
    assert done.dated_by_events == 2
    first = _snapshot(settings, DAYS[0]).set_index("item_id")
    assert first.loc["f1", "created_at"] == pd.Timestamp("2026-02-01T10:00:00Z")
    assert first.loc["f2", "created_at"] == pd.Timestamp("2026-02-01T10:03:00Z")
    assert first.loc["f3", "created_at"] == pd.Timestamp("2026-02-01", tz="UTC")  # never rated
    assert set(first["creator_id"]) == {"unknown"} and set(first["topic"]) == {0}


def test_text_topics_keep_their_codes_across_imports(settings: Settings, tmp_path: Path) -> None:
    days = [date(2026, 2, 1)]
    import_items(settings, _write(tmp_path, "a.csv", CATALOG), FILMS, days)
    before = _snapshot(settings, days[0]).set_index("item_id")["topic"]
    extended = CATALOG.replace("f3,2026-02-02T12:00:00Z,Drama", "f3,2026-02-01T12:00:00Z,Anime")
    import_items(settings, _write(tmp_path, "b.csv", extended), FILMS, days)
    after = pd.read_parquet(next((tmp_path / "data").rglob("imp*.parquet")))  # one of the two
    codes = pd.read_json(settings.root / "landing" / "items" / "topics.json", typ="series")
    assert codes["Drama"] == before["f1"] and codes["Comedy"] == before["f2"]
    assert codes["Anime"] == len(codes) - 1  # new names are appended, old codes kept
    assert set(after["topic"]) <= set(codes)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("f3,2026", "f1,2026"), "row 4, column 'film': item id repeated"),
        ((",s2,", ",,"), "row 3, column 'studio': creator empty"),
        (("1957-05-01T00:00:00Z", "May 1957"), "row 2, column 'released': not a timestamp"),
        (("5400", "-1"), "row 2, column 'minutes': not > 0"),
        (("f1,", ","), "row 2, column 'film': item id is empty"),
    ],
)
def test_a_bad_catalog_is_refused_by_row_and_column_and_lands_nothing(
    settings: Settings, tmp_path: Path, edit: tuple[str, str], message: str
) -> None:
    bad = _write(tmp_path, "films.csv", CATALOG.replace(*edit, 1))
    with pytest.raises(ImportInputError, match=message):
        import_items(settings, bad, FILMS, DAYS)
    assert not (settings.root / "landing" / "items" / "topics.json").exists()
    assert not (settings.root / "landing" / "items").exists() or not list(
        (settings.root / "landing" / "items").rglob("*.parquet")
    )


def test_without_events_or_days_the_span_is_asked_for(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(ImportInputError, match="import-events` first, or pass --day/--through"):
        import_items(settings, _write(tmp_path, "films.csv", CATALOG), FILMS)


def test_cli_lands_the_catalog_and_exits_2_on_a_bad_one(settings: Settings, tmp_path: Path) -> None:
    films = _write(tmp_path, "films.csv", CATALOG)
    runner = CliRunner()
    args = ["import-items", str(films), "--item", "film", "--created-at", "released"]
    done = runner.invoke(app, [*args, "--day", "2026-02-01", "--through", "2026-02-03"])
    assert done.exit_code == 0, done.output
    assert "landed 3 items as 3 daily snapshot(s), 2026-02-01..2026-02-03" in done.output
    refused = runner.invoke(app, [*args, "--day", "2026-02-01", "--topic", "studio2"])
    assert refused.exit_code == 2 and "['studio2'] not found" in refused.output
