from pathlib import Path

import pytest
from pydantic import ValidationError

from engageflow.settings import Settings, get_settings


def test_defaults_are_embedded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for var in ("ENGAGEFLOW_DATA_DIR", "ENGAGEFLOW_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    settings = get_settings()
    assert settings.profile == "embedded"
    assert settings.root == tmp_path / ".engageflow"
    assert settings.airflow_home == tmp_path / ".engageflow" / "airflow"


def test_env_vars_override_nested_fields(
    monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    monkeypatch.setenv("ENGAGEFLOW_SEED", "11")
    monkeypatch.setenv("ENGAGEFLOW_SIMULATION__REQUESTS_PER_DAY", "123")
    monkeypatch.setenv("ENGAGEFLOW_LABELS__GOOD_DWELL_SECONDS", "45")
    loaded = get_settings()
    assert (loaded.seed, loaded.simulation.requests_per_day) == (11, 123)
    assert loaded.labels.good_dwell_seconds == 45.0


def test_toml_file_is_read_and_env_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "prod.toml"
    config.write_text(
        "seed = 3\n[simulation]\nusers = 77\n[[simulation.drifts]]\n"
        "day = 2026-01-05\ntopic = 2\nshift = -1.5\n"
    )
    monkeypatch.setenv("ENGAGEFLOW_CONFIG", str(config))
    monkeypatch.setenv("ENGAGEFLOW_SEED", "5")
    loaded = get_settings()
    assert loaded.seed == 5
    assert loaded.simulation.users == 77
    assert loaded.simulation.drifts[0].topic == 2


def test_missing_config_file_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ENGAGEFLOW_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(FileNotFoundError, match=r"nope\.toml"):
        get_settings()


def test_inconsistent_values_are_refused() -> None:
    with pytest.raises(ValidationError, match="slate_size"):
        Settings(simulation={"slate_size": 20, "candidates": 10})
    with pytest.raises(ValidationError, match="bounce_dwell_seconds"):
        Settings(labels={"good_dwell_seconds": 3, "bounce_dwell_seconds": 5})
    with pytest.raises(ValidationError, match="unknown_field"):
        Settings(unknown_field=1)
