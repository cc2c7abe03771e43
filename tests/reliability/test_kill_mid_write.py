"""SIGKILL a step half-way through a write: nothing partial is visible, the retry completes and
equals a clean run, and no row is duplicated (ingest, feature build, training + registry)."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from crashing import at, kill_mid_write, run_step
from worlds import featured_lake

from engageflow import lake
from engageflow.aliases import CHALLENGER, moves
from engageflow.app.simulate import simulate
from engageflow.registry import alias_version, connect
from engageflow.settings import Settings
from engageflow.simulator import POLICIES
from expectations.ingest import ingest_catalog, ingest_day, ingest_events
from feature_repo.backfill import backfill
from feature_repo.offline import build_offline
from feature_repo.store import feature_store
from feature_repo.tables import VIEWS
from training.pipeline import build_dataset, fit_model, plan_window, run_dir

pytestmark = pytest.mark.integration

DAY = date(2026, 1, 1)


def _assert_partial_is_invisible(settings: Settings, written, area: str, dataset: str, day: date):
    """The killed write left only a hidden temp file: no reader sees it, and it is broken."""
    assert written.name.startswith(".") and written.suffix == ".tmp", written
    assert written.exists() and written.stat().st_size > 0  # killed mid-write, for real
    with pytest.raises(pa.ArrowInvalid):
        pq.read_table(written)  # half a file: not readable as data
    assert not (lake.partition_dir(settings.root, area, dataset, day) / lake.PART_FILE).exists()
    assert lake.partition_files(settings.root, area, dataset, day) == []
    assert lake.read_partition(settings.root, area, dataset, day) is None
    assert day not in set(lake.partition_days(settings.root, area, dataset))


def test_killed_ingest_leaves_nothing_and_the_retry_equals_a_clean_run(
    settings: Settings, tmp_path
) -> None:
    list(simulate(settings, 1, POLICIES["random"], start=DAY))
    ingest_catalog(settings, DAY)
    clean = at(settings, tmp_path / "clean")
    shutil.copytree(settings.root, clean.root)
    landing = lake.partition_dir(settings.root, "landing", "events", DAY)
    landed = {p.name: p.read_bytes() for p in landing.iterdir()}

    written = kill_mid_write(settings, "ingest", "*/lake/events/*", day=DAY.isoformat())
    _assert_partial_is_invisible(settings, written, "lake", "events", DAY)
    assert {p.name: p.read_bytes() for p in landing.iterdir()} == landed

    retried = run_step(settings, "ingest", day=DAY.isoformat())  # the task's retry
    expected = ingest_events(clean, DAY)
    events = lake.read_partition(settings.root, "lake", "events", DAY)
    assert events.equals(lake.read_partition(clean.root, "lake", "events", DAY))
    assert retried.rows == expected.rows == events.num_rows
    assert len(set(events["event_id"].to_pylist())) == events.num_rows  # no duplicates


def test_killed_feature_build_leaves_old_features_served_and_the_retry_completes(
    settings: Settings, tmp_path
) -> None:
    second = DAY + timedelta(days=1)
    list(simulate(settings, 2, POLICIES["random"], start=DAY))
    backfill(settings, [DAY])  # day 1 built and applied: Feast reads these directories
    ingest_day(settings, second)
    clean = at(settings, tmp_path / "clean")
    shutil.copytree(settings.root, clean.root)
    hung = VIEWS[2]

    written = kill_mid_write(settings, "features", f"*/features/{hung}/*", day=second.isoformat())
    _assert_partial_is_invisible(settings, written, "features", hung, second)
    # Feast's offline store (DuckDB over the view's directory) skips the temp file too.
    users = lake.read_partition(settings.root, "features", hung, DAY)["user_id"][:5].to_pylist()
    entities = pa.table(
        {"user_id": users, "event_timestamp": [lake.day_bounds(second)[1]] * len(users)}
    ).to_pandas()
    store = feature_store(settings)
    refs = [f"{hung}:{store.get_feature_view(hung).features[0].name}"]
    frame = store.get_historical_features(entity_df=entities, features=refs).to_df()
    assert len(frame) == len(users) and frame[refs[0].split(":")[1]].notna().all()

    run_step(settings, "features", day=second.isoformat())
    build_offline(clean, second)
    for view in VIEWS:
        table = lake.read_partition(settings.root, "features", view, second)
        assert table.equals(lake.read_partition(clean.root, "features", view, second)), view
        key = table.column(0).to_pylist()
        assert len(set(key)) == len(key), view  # one row per entity


@pytest.fixture
def dataset(settings: Settings) -> dict:
    """Four featured days and the training splits of the window ending on the last one."""
    settings.training.train_days, settings.training.threads = 1, 1
    featured_lake(settings, 4)
    return build_dataset(settings, plan_window(settings, DAY + timedelta(days=3)))


def test_killed_model_write_leaves_no_model_and_the_retry_equals_a_clean_fit(
    settings: Settings, dataset: dict, tmp_path
) -> None:
    model = run_dir(settings, dataset["run"]) / "model.json"
    temp = str(model.parent / ".model.json.*")
    written = kill_mid_write(settings, "train", temp, dataset=dataset)
    assert written.parent == model.parent and written.stat().st_size > 0
    assert not model.exists()
    assert connect(settings).search_registered_models() == []

    retried = run_step(settings, "train", dataset=dataset)
    clean = fit_model(at(settings, tmp_path / "clean"), dataset)["model_path"]
    assert clean != str(model) and model.read_bytes() == Path(clean).read_bytes()
    assert retried["version"] == 1


def test_killed_mlflow_logging_registers_nothing_and_moves_no_alias(
    settings: Settings, dataset: dict
) -> None:
    client = connect(settings)
    kill_mid_write(settings, "train", "*/model.ubj", dataset=dataset)  # in log_model
    name = settings.mlflow.registered_model
    assert client.search_model_versions(f"name = '{name}'") == []
    assert alias_version(settings, CHALLENGER) is None and moves(settings) == []
    experiment = client.get_experiment_by_name(settings.mlflow.experiment)
    (killed,) = client.search_runs([experiment.experiment_id])
    assert killed.info.status == "RUNNING"  # never finished: not a completed training run

    retried = run_step(settings, "train", dataset=dataset)
    assert retried["version"] == 1  # the killed attempt left no version behind
    assert moves(settings) == []  # registering moves no alias: the gate does
    finished = client.search_runs([experiment.experiment_id], "attributes.status = 'FINISHED'")
    assert [r.info.run_id for r in finished] == [retried["run_id"]]
