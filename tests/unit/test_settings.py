from pathlib import Path

import pytest
from pydantic import ValidationError

from engageflow.settings import Drift, Settings, get_settings, settings_env


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
    assert loaded.simulation.drifts[0].kind == "topic_appeal"  # the default, as before kinds


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


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"topic": 1}, r"a topic_appeal drift needs `topic` and `shift`"),
        ({"shift": -1.0}, r"a topic_appeal drift needs `topic` and `shift`"),
        ({"kind": "new_items"}, r"a new_items drift needs `items` > 0"),
        ({"kind": "new_items", "items": 0}, r"a new_items drift needs `items` > 0"),
        ({"kind": "clickbait", "share": 0}, r"a clickbait drift needs `share` in \(0, 1\]"),
        ({"kind": "clickbait", "share": 1.5}, r"a clickbait drift needs `share` in \(0, 1\]"),
        # Another kind's field is a forgotten or wrong `kind`, not something to ignore.
        ({"items": 50}, r"a topic_appeal drift takes no `items`"),
        ({"kind": "clickbait", "topic": 1, "shift": 1.0}, r"takes no `topic`, `shift`"),
        ({"kind": "flood", "items": 5}, r"kind"),
    ],
)
def test_a_drift_needs_the_fields_of_its_kind(fields: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(simulation={"drifts": [{"day": "2026-01-05", **fields}]})


def test_drift_kinds_survive_the_trip_to_a_child_process(
    monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    drifts = [
        {"day": "2026-01-05", "topic": 2, "shift": -1.5},
        {"day": "2026-01-06", "kind": "new_items", "items": 300},
        {"day": "2026-01-07", "kind": "clickbait"},
    ]
    settings = Settings(data_dir=settings.data_dir, simulation={"drifts": drifts})
    assert settings.simulation.drifts[2].share == 1.0  # a clickbait drift surges every new item
    for name, value in settings_env(settings).items():
        monkeypatch.setenv(name, value)
    assert get_settings().simulation.drifts == [Drift.model_validate(d) for d in drifts]
