"""`engageflow import-users`: a user table's coarse attributes, joined to the events by the same
pseudonyms, with direct identifiers refused and nothing written when refused."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from engageflow.app.cli import app
from engageflow.importer import (
    CatalogMapping,
    ColumnMapping,
    ImportInputError,
    UserMapping,
    import_events,
    import_items,
    import_users,
)
from engageflow.lake import day_bounds
from engageflow.pseudonym import load_key, pseudonym
from engageflow.settings import Settings
from expectations.ingest import ingest_day, ingest_users
from feature_repo.offline import newest_users
from feature_repo.transforms.attributes import user_attributes

LOG = """user,film,when,stars
ann,f1,2026-02-01T10:00:00Z,5
bob,f2,2026-02-01T10:03:00Z,2
cat,f2,2026-02-02T09:00:00Z,4
"""
CATALOG = """film,genres
f1,Drama
f2,Comedy|Drama
"""
USERS = """uid,age,place,joined,likes
ann,34,north,2025-06-01T13:45:00Z,Comedy|Drama
bob,1990-01-15,north,2026-01-20T08:00:00Z,
cat,70,south,2026-02-02T10:00:00Z,Sci-Fi
dan,,north,,Drama
"""
RATINGS = ColumnMapping(user="user", item="film", timestamp="when", rating="stars")
PEOPLE = UserMapping(
    user="uid",
    age="age",
    region="place",
    signup_at="joined",
    interests="likes",
    interest_separator="|",
)
NOW = pd.Timestamp("2026-03-01", tz="UTC")
FIRST, SECOND = date(2026, 2, 1), date(2026, 2, 2)


@pytest.fixture
def pooled(settings: Settings) -> Settings:
    """Regions of fewer than 2 users pooled, so 'south' (one user) joins 'other'."""
    return settings.model_copy(
        update={"importer": settings.importer.model_copy(update={"min_region_users": 2})}
    )


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _imported(settings: Settings, tmp_path: Path) -> pd.DataFrame:
    import_events(settings, _write(tmp_path, "log.csv", LOG), RATINGS)
    import_items(
        settings,
        _write(tmp_path, "films.csv", CATALOG),
        CatalogMapping("film", topic="genres", topic_separator="|"),
    )
    done = import_users(settings, _write(tmp_path, "users.csv", USERS), PEOPLE, now=NOW)
    assert (done.users, done.day, done.pooled_regions) == (4, FIRST, 1)
    return pd.read_parquet(done.file)


def test_attributes_land_coarse_and_join_the_events(pooled: Settings, tmp_path: Path) -> None:
    users = _imported(pooled, tmp_path)
    ingest_day(pooled, FIRST)
    events = pd.read_parquet(pooled.root / "lake" / "events" / f"date={FIRST}")
    # The same pseudonyms as the events, and no raw id anywhere in the snapshot.
    assert set(events["user_id"]) < set(users["user_id"])
    assert not users.astype(str).apply(lambda c: c.str.contains("ann|bob|cat|dan")).any().any()
    users = users.assign(raw=["ann", "bob", "cat", "dan"]).set_index("raw")
    # 34 -> 25-34 (band 3); born 1990-01-15 -> 36 on NOW -> 35-44 (band 4); 70 -> 65+ (band 7).
    assert users["age_band"].tolist()[:3] == [3, 4, 7] and pd.isna(users.loc["dan", "age_band"])
    assert users.loc["ann", "signup_at"] == pd.Timestamp("2025-06-01", tz="UTC")  # a day only
    regions = users["region"]
    assert regions["ann"] == regions["bob"] == regions["dan"] != regions["cat"]  # south pooled
    # Declared topics share the items' codes (topics.json): Drama is f1's topic.
    catalog = pd.read_parquet(pooled.root / "landing" / "items" / f"date={FIRST}")
    drama = int(catalog.set_index("item_id").loc["f1", "topic"])
    comedy = int(catalog.set_index("item_id").loc["f2", "topic"])
    assert sorted(users.loc["ann", "declared_topics"]) == sorted([drama, comedy])
    assert users.loc["bob", "declared_topics"] is None  # declared nothing: unknown
    assert list(users.loc["dan", "declared_topics"]) == [drama]


def test_the_gate_takes_the_snapshot_and_the_features_respect_signup(
    pooled: Settings, tmp_path: Path
) -> None:
    _imported(pooled, tmp_path)
    assert ingest_users(pooled, FIRST).rows == 4
    assert ingest_users(pooled, SECOND) is None  # nothing landed that day: the newest serves
    snapshot = newest_users(pooled, SECOND)
    assert len(snapshot) == 4
    day_one = user_attributes(snapshot, day_bounds(FIRST)[1])
    # cat signs up on 2 February: not known at the end of 1 February.
    assert len(day_one) == 3
    day_two = user_attributes(snapshot, day_bounds(SECOND)[1]).set_index("user_id")
    key = load_key(pooled)
    row = {name: day_two.loc[pseudonym(name, key)] for name in ("ann", "bob", "cat", "dan")}
    end = pd.Timestamp("2026-02-03", tz="UTC")
    for name, joined in (("ann", "2025-06-01"), ("bob", "2026-01-20"), ("cat", "2026-02-02")):
        expected = (end - pd.Timestamp(joined, tz="UTC")).days
        assert row[name]["user_tenure_days"] == expected
    assert np.isnan(row["dan"]["user_tenure_days"])
    # 1 at each declared topic's code (Comedy 0, Drama 1, then Sci-Fi 2); empty = declared none.
    declared = {name: list(r["user_declared_topics"]) for name, r in row.items()}
    assert declared == {"ann": [1, 1], "bob": [], "cat": [0, 0, 1], "dan": [0, 1]}


@pytest.mark.parametrize(
    ("column", "value", "said"),
    [
        ("place", "ann@example.org", "an e-mail address"),
        ("place", "+44 20 7946 0958", "a phone number"),
        ("likes", "192.168.10.4", "an IP address"),
        ("place", "123456789012", "a long ID number"),
    ],
)
def test_cells_that_look_like_direct_identifiers_are_refused(
    settings: Settings, tmp_path: Path, column: str, value: str, said: str
) -> None:
    frame = pd.read_csv(pd.io.common.StringIO(USERS), dtype=str)
    frame.loc[2, column] = value
    path = tmp_path / "users.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(ImportInputError, match=said) as refused:
        import_users(settings, path, PEOPLE, day=FIRST, now=NOW)
    assert "row 4" in str(refused.value) and repr(column) in str(refused.value)
    _nothing_written(settings)


def test_a_column_named_as_an_identifier_is_refused(settings: Settings, tmp_path: Path) -> None:
    path = _write(tmp_path, "users.csv", "uid,email\nann,north\n")
    with pytest.raises(ImportInputError, match="direct identifiers"):
        import_users(settings, path, UserMapping("uid", region="email"), day=FIRST, now=NOW)
    _nothing_written(settings)


@pytest.mark.parametrize("age", ["-3", "150", "soon"])
def test_an_impossible_age_is_refused(settings: Settings, tmp_path: Path, age: str) -> None:
    path = _write(tmp_path, "users.csv", f"uid,age\nann,30\nbob,{age}\n")
    with pytest.raises(ImportInputError, match="row 3, column 'age'"):
        import_users(settings, path, UserMapping("uid", age="age"), day=FIRST, now=NOW)
    _nothing_written(settings)


def _nothing_written(settings: Settings) -> None:
    assert not (settings.root / "landing" / "users").exists()
    assert not settings.key_file.exists()  # the key is made only after every check


def test_cli_refuses_with_exit_2_and_lands_with_exit_0(settings: Settings, tmp_path: Path) -> None:
    import_events(settings, _write(tmp_path, "log.csv", LOG), RATINGS)
    bad = _write(tmp_path, "bad.csv", "uid,place\nann,ann@example.org\n")
    runner = CliRunner()
    refused = runner.invoke(app, ["import-users", str(bad), "--user", "uid", "--region", "place"])
    assert refused.exit_code == 2, refused.output
    assert "e-mail" in refused.output and "nothing was written" in refused.output
    good = _write(tmp_path, "good.csv", USERS)
    landed = runner.invoke(
        app,
        ["import-users", str(good), "--user", "uid", "--age", "age", "--region", "place"],
    )
    assert landed.exit_code == 0, landed.output
    assert "landed 4 users' attributes for 2026-02-01" in landed.output


def test_a_hand_dropped_users_csv_is_gated_row_by_row(settings: Settings) -> None:
    folder = settings.root / "landing" / "users" / f"date={FIRST}"
    folder.mkdir(parents=True)
    (folder / "drop.csv").write_text(
        "user_id,signup_at,age_band,region,declared_topics\n"
        'p_a,2026-01-05T00:00:00Z,3,0,"[1, 4]"\n'
        "p_d,,,,\n"  # nothing known but the user: valid
        "p_e,,7,2,[0]\n"
        "p_b,,9,1,\n"  # no such age band
        'p_c,,2,1,"[oops"\n'  # declared topics that are not a list
    )
    done = ingest_users(settings, FIRST)
    assert (done.rows, done.rows_quarantined) == (3, 2)
    accepted = pd.read_parquet(done.path)
    assert accepted["user_id"].tolist() == ["p_a", "p_d", "p_e"]
    assert list(accepted["declared_topics"][0]) == [1, 4]
    bad = pd.read_parquet(next(done.quarantine.rglob("*.parquet")))
    assert sorted(bad["user_id"]) == ["p_b", "p_c"]
    assert bad.set_index("user_id").loc["p_c", "declared_topics"] == "[oops"  # as it came
