"""docker-compose.yml: valid against the Compose specification, and in step with the settings.

There is no Docker engine here, so the file is checked, not run: its schema, that every
ENGAGEFLOW_* variable is a real setting, and that ports and pins agree with the local stack.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from engageflow.settings import (
    AirflowConfig,
    CollectorConfig,
    MlflowConfig,
    MonitoringConfig,
    ServingConfig,
    Settings,
)

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
ENGAGEFLOW_SERVICES = {
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-celery-worker",
    "mlflow",
    "ranker",
    "collector",
    "event-drainer",
    "evidently-ui",
}


CELERY_ENV = ROOT / "docker" / "celery.env"


def _interpolate(value: str, given: dict[str, str] | None = None) -> str:
    """Compose's `${VAR:-default}` (VAR from `given`, else the default) and `${VAR:?error}` (as
    if VAR were set)."""
    given = given or {}
    value = re.sub(r"\$\{([A-Z_]+):-([^}]*)\}", lambda m: given.get(m.group(1), m.group(2)), value)
    return re.sub(r"\$\{[A-Z_]+:\?[^}]*\}", "set-by-the-user", value)


def _env_file(path: Path) -> dict[str, str]:
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def _settings(service: dict, monkeypatch: pytest.MonkeyPatch, given: dict | None = None):
    """The Settings a service's container reads from its environment."""
    env = {k: _interpolate(str(v), given) for k, v in service["environment"].items()}
    with monkeypatch.context() as patched:
        for key, value in env.items():
            if key.startswith("ENGAGEFLOW_"):
                patched.setenv(key, value)
        return Settings()  # extra="forbid": a misspelt variable fails here


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def test_the_file_follows_the_compose_specification() -> None:
    checker = Path(sys.executable).with_name("check-jsonschema")
    done = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_stack_has_every_service_from_one_image(services: dict) -> None:
    assert set(services) == ENGAGEFLOW_SERVICES | {"postgres", "redis"}
    for name in ENGAGEFLOW_SERVICES:
        assert services[name]["build"] == ".", name
        assert services[name]["image"] == "engageflow:latest", name
    assert all("healthcheck" in services[name] for name in ("postgres", "redis", "mlflow"))


def test_every_engageflow_variable_is_a_setting_of_the_production_profile(
    services: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ENGAGEFLOW_SERVICES:
        settings = _settings(services[name], monkeypatch)
        assert settings.profile == "production", name
        assert settings.feast.online_store == "redis", name
        assert settings.feast.registry_uri.startswith("postgresql"), name
        assert settings.collector.log == "redis", name  # the drainer reads what it appends


def test_the_celery_profile_adds_a_worker_and_switches_every_airflow_service(
    services: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    celery_env = _env_file(CELERY_ENV)
    assert celery_env["COMPOSE_PROFILES"] == "celery"
    profiled = {name for name, service in services.items() if "profiles" in service}
    assert profiled == {"airflow-celery-worker"}
    worker = services["airflow-celery-worker"]
    assert worker["profiles"] == ["celery"]
    assert worker["command"][:5] == [
        "engageflow",
        "airflow",
        "celery",
        "worker",
        "--skip-serve-logs",
    ]
    assert worker["healthcheck"]["test"][-1] == "engageflow.app.stack.celery_worker"
    for given in ({}, celery_env):  # the worker is a Celery worker either way
        settings = _settings(worker, monkeypatch, given)
        assert settings.airflow.executor == "CeleryExecutor"
        assert settings.airflow.celery.broker_url.startswith("redis://redis:6379/")
        assert settings.airflow.celery.result_backend is None  # the Airflow database
    broker = settings.airflow.celery.broker_url
    components = {name for name in ENGAGEFLOW_SERVICES if name.startswith("airflow-")} - {
        "airflow-celery-worker"
    }
    for name in components:
        assert _settings(services[name], monkeypatch).airflow.executor == "LocalExecutor", name
        celery = _settings(services[name], monkeypatch, celery_env)
        assert celery.airflow.executor == "CeleryExecutor", name
        assert celery.airflow.celery.broker_url == broker, name  # the worker's queue


def test_ports_agree_with_the_settings_and_bind_to_loopback(services: dict) -> None:
    expected = {
        "airflow-apiserver": AirflowConfig().port,
        "mlflow": MlflowConfig().port,
        "ranker": ServingConfig().port,
        "collector": CollectorConfig().port,
        "evidently-ui": MonitoringConfig().ui_port,
    }
    for name, port in expected.items():
        (published,) = services[name]["ports"]
        assert published == f"127.0.0.1:{port}:{port}", name
    ranker = services["ranker"]["environment"]
    assert int(ranker["ENGAGEFLOW_SERVING__PORT"]) == expected["ranker"]
    collector = services["collector"]["environment"]
    assert int(collector["ENGAGEFLOW_COLLECTOR__PORT"]) == expected["collector"]
    evidently = services["evidently-ui"]["environment"]
    assert int(evidently["ENGAGEFLOW_MONITORING__UI_PORT"]) == expected["evidently-ui"]


def test_a_misspelt_variable_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENGAGEFLOW_FEAST__REDIS_CONECTION", "redis:6379")
    with pytest.raises(ValueError, match="redis_conection"):
        Settings()


def test_the_image_pins_the_same_uv_as_the_makefile_and_the_lock() -> None:
    pinned = re.search(r'"uv==([0-9.]+)"', (ROOT / "Dockerfile").read_text()).group(1)
    makefile = re.search(r"^UV_VERSION := ([0-9.]+)$", (ROOT / "Makefile").read_text(), re.M)
    lock = re.search(r'name = "uv"\nversion = "([0-9.]+)"', (ROOT / "uv.lock").read_text())
    assert pinned == makefile.group(1) == lock.group(1)
