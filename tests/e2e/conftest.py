"""A real Airflow home (SQLite metadata DB) migrated once, shared worlds, and the browser."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext


@pytest.fixture(scope="session")
def airflow_home() -> Path:
    """The home tests/conftest.py chose before Airflow was imported, with its DB migrated."""
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], check=True, capture_output=True)
    return Path(os.environ["AIRFLOW_HOME"])


@pytest.fixture(scope="session")
def dagbag(airflow_home: Path):
    from airflow.dag_processing.dagbag import DagBag

    from dags.support.env import DAGS_FOLDER

    return DagBag(dag_folder=str(DAGS_FOLDER))


@pytest.fixture(scope="session")
def drift_world(tmp_path_factory: pytest.TempPathFactory):
    """tests/monitoring_world.py's world, built once: (settings, champion version)."""
    from monitoring_world import build_world, world_settings

    settings = world_settings(tmp_path_factory.mktemp("drift-world") / "data")
    return settings, build_world(settings)


@pytest.fixture(scope="session")
def champion_world(tmp_path_factory: pytest.TempPathFactory):
    """tests/worlds.py's champion world (five days, champion v1, online store), built once."""
    from worlds import champion_world as build

    return build(tmp_path_factory.mktemp("champion-world") / "data")


# The system Chromium with the flags from NOTES.md: no sandbox in containers, no GPU, and no
# background traffic (updates, sync) from the browser itself.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[BrowserContext]:
    """Headless system Chromium on a fresh profile (--user-data-dir), closed after the test."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1400, "height": 1000},
        )
        try:
            yield context
        finally:
            context.close()
