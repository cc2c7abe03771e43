"""Login and shared secrets of the local Airflow stack: generated once, kept 0600, never printed.

The api-server, scheduler, dag-processor and triggerer run as separate processes, so they must
share one JWT secret and one API secret key, and find the execution API at the api-server.
SimpleAuthManager reads `admin`'s password from its passwords file; because we write the file
first, Airflow never generates (and never logs) a password itself.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from dags.support.env import airflow_env
from engageflow.settings import Settings, child_env

USER = "admin"
ROLE = "admin"


def _secret_file(path: Path, make: Callable[[], str]) -> str:
    """The content of `path`, created (mode 0600, atomically) by `make()` when missing."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(make())
        os.replace(tmp, path)  # a concurrent writer loses the race harmlessly: same shape
    return path.read_text().strip()


def secrets_dir(settings: Settings) -> Path:
    return settings.airflow_home / "secrets"


def passwords_file(settings: Settings) -> Path:
    """SimpleAuthManager's passwords file (JSON: user -> password)."""
    return secrets_dir(settings) / "simple_auth_manager_passwords.json"


def airflow_credentials(settings: Settings) -> tuple[str, str]:
    """(user, password) for the Airflow UI and REST API of the local stack."""
    path = passwords_file(settings)
    text = _secret_file(path, lambda: json.dumps({USER: secrets.token_urlsafe(18)}))
    try:
        return USER, json.loads(text)[USER]
    except (ValueError, KeyError) as err:
        raise ValueError(
            f"{path} should hold JSON like {{{USER!r}: PASSWORD}}; delete it to get a new password"
        ) from err


def execution_api_url(settings: Settings) -> str:
    config = settings.airflow
    return config.execution_api_url or f"http://{config.host}:{config.port}/execution/"


def airflow_server_env(settings: Settings) -> dict[str, str]:
    """`airflow_env` plus what separate components on one machine need: login, shared secrets
    (by value: child env only), the execution API's URL."""
    folder = secrets_dir(settings)
    airflow_credentials(settings)  # the passwords file exists before the api-server reads it
    return {
        **airflow_env(settings),
        "AIRFLOW__CORE__AUTH_MANAGER": (
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
        ),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:{ROLE}",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords_file(settings)),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": execution_api_url(settings),
        "AIRFLOW__API_AUTH__JWT_SECRET": _secret_file(
            folder / "jwt_secret", lambda: secrets.token_urlsafe(48)
        ),
        "AIRFLOW__API__SECRET_KEY": _secret_file(
            folder / "api_secret_key", lambda: secrets.token_urlsafe(48)
        ),
    }


def run_airflow(
    settings: Settings,
    *args: str,
    check: bool = True,
    extra_env: Mapping[str, str] | None = None,
    program: list[str] | None = None,
) -> subprocess.CompletedProcess:
    """Run the `airflow` CLI with the project's environment (plus `extra_env`), including the
    login and shared secrets, so components started this way (docker-compose) agree."""
    settings.airflow_home.mkdir(parents=True, exist_ok=True)
    env = {**child_env(settings), **airflow_server_env(settings), **(extra_env or {})}
    program = program or [str(Path(sys.executable).with_name("airflow"))]
    return subprocess.run([*program, *args], env=env, check=check)


# `airflow backfill create` on SQLite beside a running scheduler failed at once with "database
# is locked" on 2 of 3 CI runs, and again on each of 5 retries: between two dag runs it reads,
# the scheduler writes (it starts on the first run), and a SQLite transaction that read before
# another process wrote cannot wait for the lock. Its transactions begin IMMEDIATE instead
# (dags/support/sqlite_cli.py), so they wait for the lock (60 s, compat.py) before reading.
IMMEDIATE_COMMANDS = (("backfill", "create"),)


def run_airflow_command(settings: Settings, args: list[str]) -> int:
    """`engageflow airflow ARGS`: the airflow CLI, with a backfill's writes waiting on SQLite."""
    on_sqlite = (settings.airflow.sql_alchemy_conn or "sqlite").startswith("sqlite")
    if on_sqlite and tuple(args[:2]) in IMMEDIATE_COMMANDS:
        program = [sys.executable, "-m", "dags.support.sqlite_cli"]
        return run_airflow(settings, *args, check=False, program=program).returncode
    return run_airflow(settings, *args, check=False).returncode
