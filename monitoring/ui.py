"""The Evidently UI over this project's workspace (`engageflow ui monitoring`).

Plain equivalent: `evidently ui --workspace <data_dir>/evidently --port 8000 --host 127.0.0.1`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from engageflow.settings import Settings
from monitoring.workspace import open_workspace, project, workspace_dir


def ui_command(settings: Settings, port: int | None = None) -> list[str]:
    """The `evidently ui` command line for the settings' workspace, host and port."""
    config = settings.monitoring
    evidently = Path(sys.executable).with_name("evidently")
    return [
        str(evidently),
        "ui",
        "--workspace",
        str(workspace_dir(settings)),
        "--port",
        str(port or config.ui_port),
        "--host",
        config.ui_host,
    ]


def prepare(settings: Settings) -> str:
    """Create the workspace and the environment's project (with its dashboard); its id."""
    return str(project(settings, open_workspace(settings)).id)
