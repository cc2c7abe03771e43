"""One trained world for the reliability tests, and a way to serve it with any settings."""

from __future__ import annotations

import secrets
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from worlds import champion_world

from engageflow.settings import Settings
from serving.launch import ServiceProcess, free_port


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Five simulated days, a champion (v1) in a SQLite registry, the first day online."""
    return champion_world(tmp_path_factory.mktemp("reliability") / "data")


@pytest.fixture
def planted_key() -> str:
    """A fresh API key no file in the repo or a log may contain."""
    return f"planted-{secrets.token_hex(16)}"


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., ServiceProcess]]:
    """Start `bentoml serve` on a free port with settings changed as asked; stopped after."""
    started: list[ServiceProcess] = []

    def start(settings: Settings, **serving) -> ServiceProcess:
        config = settings.serving.model_copy(update={"port": free_port(), **serving})
        server = ServiceProcess(
            settings.model_copy(update={"serving": config}), tmp_path / f"serve{len(started)}.log"
        )
        started.append(server.start())
        return server.wait_ready()

    yield start
    for server in started:
        server.stop(signal.SIGTERM)
