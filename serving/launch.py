"""How to start the service: the `bentoml serve` command line and its environment.

One place for `engageflow serve`, the integration tests and the benchmark. Workers and threads
go through BENTOML_CONFIG_OVERRIDES, because BentoML reads them when the class is decorated.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from engageflow.settings import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent
SERVICE = "serving.service:Ranker"


def serve_command(settings: Settings) -> list[str]:
    """`bentoml serve serving.service:Ranker` on the settings' host and port."""
    bentoml = Path(sys.executable).with_name("bentoml")
    config = settings.serving
    return [
        str(bentoml),
        "serve",
        SERVICE,
        "--working-dir",
        str(REPO_ROOT),
        "--host",
        config.host,
        "--port",
        str(config.port),
    ]


def serve_env(settings: Settings, base: dict[str, str] | None = None) -> dict[str, str]:
    """`base` (default: this process's env) plus what the server processes need."""
    env = dict(os.environ if base is None else base)
    overrides = {"services": {"Ranker": {"workers": settings.serving.workers}}}
    overrides["services"]["Ranker"]["threads"] = settings.serving.threads
    env["BENTOML_CONFIG_OVERRIDES"] = json.dumps(overrides)
    env["ENGAGEFLOW_DATA_DIR"] = str(settings.root)  # the workers read settings themselves
    env.setdefault("BENTOML_DO_NOT_TRACK", "true")
    return env
