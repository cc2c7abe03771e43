"""The stack record and pid-reuse guard, the production settings check, settings_env."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from pydantic import ValidationError

from engageflow.app.stack.control import _stop_one, down
from engageflow.app.stack.record import Record, load, record_file, save
from engageflow.settings import Settings, child_env, settings_env


def _sleeper() -> subprocess.Popen:
    return subprocess.Popen(["sleep", "300"], start_new_session=True)


def _record(name: str, proc: subprocess.Popen, create_time: float | None = None) -> Record:
    started = psutil.Process(proc.pid).create_time() if create_time is None else create_time
    return Record(name, proc.pid, proc.pid, started, ["sleep", "300"], "http://x", "/nowhere")


def test_records_round_trip_atomically(settings: Settings) -> None:
    proc = _sleeper()
    try:
        save(settings, {"a": _record("a", proc)})
        assert load(settings)["a"].leader().pid == proc.pid
        assert not list(record_file(settings).parent.glob(".*.tmp"))
    finally:
        proc.kill()
        proc.wait()
    assert load(settings)["a"].leader() is None  # gone: not running


def test_a_reused_pid_is_never_signalled(settings: Settings) -> None:
    proc = _sleeper()
    try:
        # Same pid, another start time: the recorded process is gone and the pid reused.
        stale = _record("old", proc, create_time=psutil.Process(proc.pid).create_time() - 60)
        assert stale.leader() is None
        _stop_one(stale, timeout=1)
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait()


def test_down_stops_exactly_the_recorded_groups_and_their_runaway_children(
    settings: Settings,
) -> None:
    # A recorded leader whose child starts a session of its own (as BentoML's workers do).
    script = "import subprocess as s, time; s.Popen(['sleep', '300'], start_new_session=True)"
    leader = subprocess.Popen(
        [sys.executable, "-c", script + "; time.sleep(300)"], start_new_session=True
    )
    bystander = _sleeper()
    try:
        deadline = time.monotonic() + 10
        while not psutil.Process(leader.pid).children() and time.monotonic() < deadline:
            time.sleep(0.05)
        (child,) = psutil.Process(leader.pid).children()
        assert os.getsid(child.pid) != leader.pid  # left the group: a group signal misses it
        save(settings, {"svc": _record("svc", leader)})
        assert down(settings, timeout=5) == ["svc"]
        assert leader.wait(5) is not None
        assert not child.is_running() or child.status() == psutil.STATUS_ZOMBIE
        assert bystander.poll() is None
        assert not record_file(settings).exists()
    finally:
        for proc in (leader, bystander):
            proc.kill()
            proc.wait()


def _production(**overrides: object) -> Settings:
    return Settings(profile="production", **overrides)


def test_production_names_every_missing_setting_with_its_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ENGAGEFLOW_CONFIG", raising=False)
    secret = "postgresql+psycopg2://u:hunter2@h/db"
    with pytest.raises(ValidationError) as caught:
        _production(mlflow={"tracking_uri": "sqlite:///x.db"}, airflow={"sql_alchemy_conn": secret})
    message = str(caught.value)
    for var in (
        "ENGAGEFLOW_MLFLOW__TRACKING_URI",
        "ENGAGEFLOW_FEAST__REGISTRY_URI",
        "ENGAGEFLOW_FEAST__ONLINE_STORE",
    ):
        assert var in message
    assert "ENGAGEFLOW_AIRFLOW__SQL_ALCHEMY_CONN" not in message  # that one is fine
    assert "hunter2" not in message  # URLs may hold passwords: never echoed


def test_the_example_production_file_is_complete(monkeypatch: pytest.MonkeyPatch) -> None:
    example = Path(__file__).resolve().parents[2] / "docs" / "production.toml"
    monkeypatch.setenv("ENGAGEFLOW_CONFIG", str(example))
    settings = Settings()
    assert settings.profile == "production"
    assert settings.feast.online_store == "redis"


def test_children_read_exactly_the_parents_resolved_settings(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.serving.port = 4321
    settings.monitoring.workspace = Path("relative-ws")
    settings.simulation.users = 77
    monkeypatch.setenv("ENGAGEFLOW_SERVING__PORT", "9")  # inherited: must not win
    env = child_env(settings)
    assert env.keys() >= settings_env(settings).keys()
    for name in [k for k in os.environ if k.startswith("ENGAGEFLOW_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        if name.startswith("ENGAGEFLOW_"):
            monkeypatch.setenv(name, value)
    monkeypatch.chdir("/")
    child = Settings()
    assert child.serving.port == 4321 and child.simulation.users == 77
    assert child.root == settings.root
    assert child.monitoring.workspace == settings.root.parent / "relative-ws"
    assert json.loads(env["ENGAGEFLOW_AIRFLOW"])["home"] == str(settings.airflow_home)


def test_children_do_not_inherit_the_parents_feast_metrics_dir(settings: Settings) -> None:
    # `import feast` sets these to a temp dir it removes at exit; a stack child that kept them
    # failed on `import feast` after the parent (e.g. a test building a world) had exited.
    base = {
        "PROMETHEUS_MULTIPROCESS_DIR": "/tmp/feast_metrics_x4p_vdxd",
        "PROMETHEUS_MULTIPROC_DIR": "/tmp/feast_metrics_x4p_vdxd",
        "PATH": "/usr/bin",
    }
    env = child_env(settings, base)
    assert not any(name.startswith("PROMETHEUS_MULTIPROC") for name in env)
    assert env["PATH"] == "/usr/bin"
    chosen = {"PROMETHEUS_MULTIPROC_DIR": "/var/run/metrics"}  # a user's own: kept
    assert child_env(settings, chosen)["PROMETHEUS_MULTIPROC_DIR"] == "/var/run/metrics"
