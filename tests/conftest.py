"""Shared fixtures: every test gets its own data dir and a small, fast simulated world."""

from __future__ import annotations

from pathlib import Path

import pytest

from engageflow.settings import Settings

SMALL_WORLD = {
    "users": 600,
    "items": 300,
    "topics": 6,
    "creators": 40,
    "new_items_per_day": 20,
    "new_users_per_day": 30,
    "requests_per_day": 400,
    "candidates": 30,
    "slate_size": 10,
}


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings on a fresh data dir; env vars point there too, for code that reads settings."""
    monkeypatch.chdir(tmp_path)
    for name in ("ENGAGEFLOW_CONFIG", "ENGAGEFLOW_PSEUDONYM_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ENGAGEFLOW_DATA_DIR", str(tmp_path / "data"))
    return Settings(data_dir=tmp_path / "data", simulation=SMALL_WORLD)
