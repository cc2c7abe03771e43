"""The Evidently UI serves the environment's dashboard with points from two monitored days,
seen in headless Chromium; the screenshot is kept as docs/img/evidently_dashboard.png."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from monitoring_world import DRIFT_DAY
from servers import running

from monitoring.daily import monitor_day
from monitoring.ui import prepare, ui_command
from serving.launch import free_port

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "evidently_dashboard.png"
PANELS = ["Drifted features (share)", "AUC (good engagement)", "Canary vs champion"]


@pytest.fixture
def evidently_ui(drift_world, tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """Two monitored days in the workspace and `evidently ui` on a loopback port: (url, days)."""
    settings, _ = drift_world
    days = [DRIFT_DAY - timedelta(days=1), DRIFT_DAY + timedelta(days=1)]
    for day in days:
        monitor_day(settings, day)
    project_id = prepare(settings)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running(ui_command(settings, port), f"{base}/api/version", tmp_path / "evidently.log"):
        yield f"{base}/projects/{project_id}", [d.isoformat() for d in days]


def test_dashboard_shows_panels_with_points_of_two_runs(evidently_ui, browser) -> None:
    url, days = evidently_ui
    page = browser.new_page()
    page.set_viewport_size({"width": 1400, "height": 1800})
    page.goto(url, wait_until="networkidle")
    for title in PANELS:
        page.get_by_text(title).first.wait_for(timeout=30_000)
    # Each run is a point on the time axis, labelled with its timestamp (noon UTC).
    for day in days:
        page.get_by_text(f"{day} 12:00:00").first.wait_for(timeout=30_000)
    assert page.locator("svg path").count() > len(PANELS)
    # The by-policy panel draws the simulated traffic's policy (its legend only shows when the
    # series has points).
    page.get_by_text("explore", exact=True).first.wait_for(timeout=30_000)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 10_000
