"""The MLflow UI, as a user finds the champion: models list, the model's page, the version the
`champion` alias points at. A real `mlflow server` over the test's own copy of the registry,
seen in headless Chromium; the screenshot is kept as docs/img/mlflow_champion.png."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import group_commands, mlflow_server

from engageflow.aliases import CHALLENGER, CHAMPION, move_alias
from engageflow.registry import connect, tracking_uri
from engageflow.settings import Settings

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "mlflow_champion.png"


@pytest.fixture
def registry(champion_world: Settings, tmp_path: Path) -> Settings:
    """A copy of the world's registry with v2 as challenger, so the champion is not the latest."""
    database = tmp_path / "mlflow.db"
    shutil.copy(tracking_uri(champion_world).removeprefix("sqlite:///"), database)
    mlflow = champion_world.mlflow.model_copy(
        update={"tracking_uri": f"sqlite:///{database}", "artifact_root": tmp_path / "artifacts"}
    )
    settings = champion_world.model_copy(update={"mlflow": mlflow})
    client, name = connect(settings), settings.mlflow.registered_model
    champion = client.get_model_version_by_alias(name, CHAMPION)
    # The same model registered again: a second version without training a second model.
    second = client.create_model_version(name, champion.source, run_id=champion.run_id)
    move_alias(settings, CHALLENGER, int(second.version), "register", "ui test", "tests")
    return settings


@pytest.fixture
def mlflow_ui(registry: Settings, tmp_path: Path) -> Iterator[str]:
    """`mlflow server` on a free loopback port over the registry copy; yields its base URL."""
    with mlflow_server(registry, tmp_path / "mlflow.log") as server:
        # The stack's server starts no GenAI job consumers (engageflow/compat.py): ~2 GB idle.
        assert not [c for c in group_commands(server.process) if "huey" in c]
        yield server.url


def test_a_user_finds_the_champion_in_the_mlflow_ui(registry, mlflow_ui, browser) -> None:
    client, name = connect(registry), registry.mlflow.registered_model
    champion = client.get_model_version_by_alias(name, CHAMPION).version
    challenger = client.get_model_version_by_alias(name, CHALLENGER).version
    assert champion != challenger

    page = browser.new_page()
    page.goto(mlflow_ui, wait_until="domcontentloaded")
    # MLflow 3 opens on its GenAI home; the model registry sits under "Model training".
    page.get_by_text("Model training", exact=True).click()
    page.get_by_role("link", name="Model registry").click()
    page.wait_for_url("**/#/models")
    _dismiss_popups(page)
    page.get_by_role("link", name=name, exact=True).click()
    page.wait_for_url(f"**/#/models/{name}")

    # The versions table: the champion's row carries the alias, the challenger's its own.
    for alias, version in ((CHAMPION, champion), (CHALLENGER, challenger)):
        row = page.get_by_role("row").filter(has_text=f"@ {alias}")
        row.first.wait_for(timeout=30_000)
        assert row.count() == 1
        assert row.get_by_role("link", name=f"Version {version}", exact=True).count() == 1

    row = page.get_by_role("row").filter(has_text=f"@ {CHAMPION}")
    row.get_by_role("link", name=f"Version {champion}", exact=True).click()
    page.wait_for_url(f"**/#/models/{name}/versions/{champion}")
    page.get_by_role("heading", name=f"Version {champion}", exact=True).wait_for()
    page.get_by_text(f"@ {CHAMPION}", exact=True).first.wait_for()
    # The gate's verdict travels with the version (engageflow/aliases.py tags it), and the
    # version links to the MLflow run that trained it and to the logged model.
    page.get_by_text(f"{CHAMPION}.reason", exact=True).wait_for()
    version = client.get_model_version(name, champion)
    run_name = client.get_run(version.run_id).info.run_name
    page.get_by_role("link", name=run_name, exact=True).wait_for()
    logged = client.get_logged_model(version.source.removeprefix("models:/")).name
    page.get_by_role("link", name=logged, exact=True).wait_for()
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 10_000


def _dismiss_popups(page) -> None:
    """Close the one-time "new model registry UI" dialog and the assistant side panel."""
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Close").click()
    dialog.wait_for(state="hidden")
    page.get_by_role("button", name="Close", exact=True).last.click()
