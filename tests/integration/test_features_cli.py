"""`engageflow feast ...` runs the real Feast CLI (a subprocess) on the same definitions the
pipeline applies, and `engageflow features user|item ID` shows what is served (in-process: the
Feast import alone costs a subprocess ~4 s)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from engageflow import lake
from engageflow.app.cli import app
from engageflow.settings import Settings
from feature_repo.apply import apply_if_changed
from feature_repo.materialize import materialize_days
from feature_repo.sources import AREA
from feature_repo.store import REPO_DIR
from tests.integration.conftest import FEATURE_DAYS

ENGAGEFLOW = str(Path(sys.executable).with_name("engageflow"))


def _cli(*args: str) -> subprocess.CompletedProcess:
    # The settings fixture points ENGAGEFLOW_DATA_DIR at the test's data dir.
    return subprocess.run([ENGAGEFLOW, *args], env=dict(os.environ), capture_output=True, text=True)


def test_feast_cli_applies_what_the_pipeline_declares(feature_world: Settings) -> None:
    applied = _cli("feast", "apply")
    assert applied.returncode == 0, applied.stderr
    assert "user_engagement" in applied.stdout
    assert apply_if_changed(feature_world) == []  # the CLI and the code declare the same repo
    assert (feature_world.root / "feast" / "registry.db").is_file()


def test_plain_feast_cli_after_feast_env(feature_world: Settings) -> None:
    feast = Path(sys.executable).with_name("feast")
    script = f'eval "$({ENGAGEFLOW} feast-env)" && cd / && {feast} -c {REPO_DIR} plan'
    planned = subprocess.run(["bash", "-c", script], capture_output=True, text=True)
    assert planned.returncode == 0, planned.stderr
    assert "user_engagement" in planned.stdout  # nothing applied yet: the plan creates it
    assert "serve_features_while_materializing" not in planned.stderr  # the silenced warning
    assert (feature_world.root / "feast" / "registry.db").is_file()  # the settings' store


def test_features_command_prints_a_users_and_an_items_online_features(
    feature_world: Settings,
) -> None:
    apply_if_changed(feature_world)
    materialize_days(feature_world, FEATURE_DAYS)
    table = lake.read_partition(feature_world.root, AREA, "user_engagement", FEATURE_DAYS[-1])
    row = table.slice(0, 1).to_pylist()[0]
    runner = CliRunner()
    shown = runner.invoke(app, ["features", "user", row["user_id"]])
    assert shown.exit_code == 0, shown.output
    assert "user_impressions_28d" in shown.stdout and "topic_affinity" in shown.stdout
    assert f"{row['user_impressions_28d']}" in shown.stdout

    item = runner.invoke(app, ["features", "item", "i0000001"])
    assert item.exit_code == 0, item.output
    assert "cold_start" in item.stdout and "headline_sensationalism" in item.stdout

    unknown = runner.invoke(app, ["features", "user", "nobody"])
    assert unknown.exit_code == 1 and "no online features" in unknown.stdout
