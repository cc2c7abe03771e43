"""How the service is laid out on the machine: workers from the usable cores unless set, and
BentoML's per-request extras (access log, OpenTelemetry) off the /rank path."""

from __future__ import annotations

import json
import os

from engageflow.processes import usable_cores
from engageflow.settings import Settings
from serving.launch import serve_env


def _bento(settings: Settings) -> dict:
    return json.loads(serve_env(settings, base={})["BENTOML_CONFIG_OVERRIDES"])["services"][
        "Ranker"
    ]


def test_one_worker_per_usable_core_unless_set() -> None:
    assert usable_cores() == len(os.sched_getaffinity(0))
    assert _bento(Settings())["workers"] == usable_cores()
    assert _bento(Settings(serving={"workers": 3, "threads": 2}))["workers"] == 3
    assert _bento(Settings(serving={"workers": 3, "threads": 2}))["threads"] == 2


def test_rank_skips_the_access_log_and_unrecorded_tracing_unless_asked() -> None:
    quiet = _bento(Settings())
    assert quiet["logging"]["access"]["enabled"] is False
    assert "/rank" in quiet["tracing"]["excluded_urls"]
    assert _bento(Settings(serving={"access_log": True}))["logging"]["access"]["enabled"] is True
