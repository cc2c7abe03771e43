"""Bad input at the feature edge: a missing lake day, a damaged lake file, a table that fails
its checks. Each is refused with what and where, and nothing already stored changes."""

from __future__ import annotations

from datetime import date, timedelta

import pyarrow as pa
import pytest
from stored import tree
from worlds import featured_lake

from engageflow import lake
from engageflow.lake import PartitionUnreadable
from engageflow.settings import Settings
from feature_repo import offline
from feature_repo.offline import LakeDayMissing, build_offline
from feature_repo.tables import USER_ENGAGEMENT
from feature_repo.validate import FeatureValidationError

pytestmark = pytest.mark.integration

DAY = date(2026, 1, 2)


@pytest.fixture
def world(settings: Settings) -> Settings:
    return featured_lake(settings, 2)


def test_a_day_missing_from_the_lake_is_named(world: Settings) -> None:
    before = tree(world.root, "quarantine")
    with pytest.raises(LakeDayMissing, match=r"2026-01-05.*engageflow ingest --day 2026-01-05"):
        build_offline(world, DAY + timedelta(days=3))
    assert tree(world.root, "quarantine") == before


def test_a_damaged_lake_file_is_named(world: Settings) -> None:
    part = lake.partition_dir(world.root, "lake", "events", DAY) / lake.PART_FILE
    part.write_bytes(part.read_bytes()[:1000])  # damaged outside the pipeline
    before = tree(world.root, "quarantine")
    with pytest.raises(PartitionUnreadable, match=rf"{part} is unreadable.*ingest it"):
        build_offline(world, DAY)
    assert tree(world.root, "quarantine") == before


def test_a_table_failing_its_checks_writes_nothing(
    world: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    compute = offline.compute_features

    def duplicated_user(*args, **kwargs) -> dict[str, pa.Table]:
        # What a transform bug would produce: one user twice.
        tables = compute(*args, **kwargs)
        table = tables[USER_ENGAGEMENT]
        tables[USER_ENGAGEMENT] = pa.concat_tables([table, table.slice(0, 1)])
        return tables

    monkeypatch.setattr(offline, "compute_features", duplicated_user)
    before = tree(world.root, "quarantine")
    with pytest.raises(FeatureValidationError, match=r"nothing was written.*be_unique\(user_id\)"):
        build_offline(world, DAY)
    assert tree(world.root, "quarantine") == before
    report = world.root / "quarantine" / "features" / USER_ENGAGEMENT / f"date={DAY}"
    assert (report / "report.json").is_file()
