"""The Evidently UI serves the environment's dashboard with points from two monitored days,
seen in headless Chromium; the screenshot is kept as docs/img/evidently_dashboard.png."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from monitoring_world import DRIFT_DAY

from monitoring.daily import monitor_day
from monitoring.ui import prepare, ui_command

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
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "evidently_dashboard.png"
PANELS = ["Drifted features (share)", "AUC (good engagement)", "Canary vs champion"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def evidently_ui(drift_world) -> Iterator[tuple[str, list[str]]]:
    """Two monitored days in the workspace and `evidently ui` on a loopback port: (url, days)."""
    settings, _ = drift_world
    days = [DRIFT_DAY - timedelta(days=1), DRIFT_DAY + timedelta(days=1)]
    for day in days:
        monitor_day(settings, day)
    project_id = prepare(settings)
    port = _free_port()
    server = subprocess.Popen(
        ui_command(settings, port),
        start_new_session=True,  # its own process group: uvicorn children die with it
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/version", timeout=2)
                break
            except OSError:
                assert server.poll() is None, "evidently ui exited"
                assert time.monotonic() < deadline, "evidently ui did not answer in 90 s"
                time.sleep(0.5)
        yield f"{base}/projects/{project_id}", [d.isoformat() for d in days]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_dashboard_shows_panels_with_points_of_two_runs(evidently_ui, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    url, days = evidently_ui
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),  # a fresh --user-data-dir
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1400, "height": 1800},
        )
        try:
            page = browser.new_page()
            page.goto(url, wait_until="networkidle")
            for title in PANELS:
                page.get_by_text(title).first.wait_for(timeout=30_000)
            # Each run is a point on the time axis, labelled with its timestamp (noon UTC).
            for day in days:
                page.get_by_text(f"{day} 12:00:00").first.wait_for(timeout=30_000)
            assert page.locator("svg path").count() > len(PANELS)
            # The by-policy panel draws the simulated traffic's policy (its legend only shows
            # when the series has points).
            page.get_by_text("explore", exact=True).first.wait_for(timeout=30_000)
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            browser.close()
    assert SCREENSHOT.stat().st_size > 10_000
