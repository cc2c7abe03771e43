"""`engageflow up [SERVICE]...`: which services a partial start runs, and a clear refusal of a
name that is not one of them."""

from __future__ import annotations

from pathlib import Path

import pytest

from engageflow.app.stack.services import selected
from engageflow.settings import Settings

AIRFLOW = ["airflow-api-server", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"]


def _names(settings: Settings, only: tuple[str, ...]) -> list[str]:
    return [service.name for service in selected(settings, only)]


def test_airflow_names_every_component_and_nothing_else(tmp_path: Path) -> None:
    assert _names(Settings(data_dir=tmp_path), ("airflow",)) == AIRFLOW


def test_a_service_comes_with_what_it_waits_for(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert _names(settings, ("airflow-scheduler", "mlflow")) == [
        "airflow-api-server",
        "airflow-scheduler",
        "mlflow",
    ]
    assert _names(settings, ()) == [*AIRFLOW, "mlflow", "ranker", "collector", "evidently-ui"]


def test_the_redis_log_brings_its_drainer(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, collector={"log": "redis"})
    assert _names(settings, ("collector", "event-drainer")) == ["collector", "event-drainer"]
    assert "event-drainer" not in _names(Settings(data_dir=tmp_path), ())


def test_an_unknown_name_is_refused_with_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"no service rankr; choose from .*ranker"):
        selected(Settings(data_dir=tmp_path), ("rankr", "mlflow"))
