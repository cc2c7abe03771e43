"""The Evidently workspace on disk: one project per profile with its dashboard, and a rerun of a
day replacing that day's runs instead of adding to them."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from engageflow.settings import Settings
from monitoring.reports import performance_snapshot
from monitoring.ui import prepare, ui_command
from monitoring.workspace import open_workspace, project_name, replace_day_runs, workspace_dir

FRAME = pd.DataFrame({"good": [1, 0, 1, 0], "bad": [0, 1, 0, 0], "score": [0.9, 0.2, 0.6, 0.4]})


def _snapshot(day: str):
    stamp = {
        "timestamp": datetime.fromisoformat(f"{day}T12:00:00+00:00").astimezone(UTC),
        "tags": ["performance"],
        "metadata": {"day": day},
    }
    return performance_snapshot(FRAME, stamp)


def test_project_per_profile_with_its_dashboard(settings: Settings) -> None:
    first = prepare(settings)
    assert prepare(settings) == first  # found again, not duplicated
    workspace = open_workspace(settings)
    assert [p.name for p in workspace.list_projects()] == ["engageflow-embedded"]
    titles = [p.title for p in workspace.get_dashboard(first).panels]
    assert "Drifted features (share)" in titles and len(titles) == 7
    production = settings.model_copy(update={"profile": "production"})
    assert project_name(production) == "engageflow-production"


def test_rerun_of_a_day_replaces_its_runs(settings: Settings) -> None:
    project_id = prepare(settings)
    workspace = open_workspace(settings)
    replace_day_runs(settings, "2026-01-02", {"a": _snapshot("2026-01-02")})
    replace_day_runs(settings, "2026-01-03", {"a": _snapshot("2026-01-03")})
    again = replace_day_runs(settings, "2026-01-02", {"a": _snapshot("2026-01-02")})
    ids = [str(run) for run in workspace.list_runs(project_id)]
    days = [workspace.get_run(project_id, run).metadata["day"] for run in ids]
    assert sorted(days) == ["2026-01-02", "2026-01-03"]
    assert again["a"] in ids


def test_ui_command_names_workspace_host_and_port(settings: Settings) -> None:
    command = ui_command(settings, 8123)
    assert command[1:] == [
        "ui",
        "--workspace",
        str(workspace_dir(settings)),
        "--port",
        "8123",
        "--host",
        "127.0.0.1",
    ]
    assert command[0].endswith("evidently")
