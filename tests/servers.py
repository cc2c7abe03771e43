"""Servers for tests: web servers for browser tests (up until their health URL answers,
stopped as a group), and private backing servers that tests stop on purpose."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from engageflow.settings import Settings


@contextlib.contextmanager
def running(
    command: list[str],
    health_url: str,
    log: Path,
    timeout: float = 120.0,
    env: dict[str, str] | None = None,
) -> Iterator[subprocess.Popen]:
    """Start `command` (in `env`, default ours), wait until `health_url` answers 200, yield;
    stop the group afterwards."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        server = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=env
        )
    try:
        _wait(server, health_url, log, timeout)
        yield server
    finally:
        stop_group(server)


def _wait(server: subprocess.Popen, url: str, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        tail = "\n".join(log.read_text().splitlines()[-30:])
        assert server.poll() is None, f"{server.args[0]} exited:\n{tail}"
        assert time.monotonic() < deadline, f"{url} did not answer in {timeout:.0f} s:\n{tail}"
        time.sleep(0.5)


def start_redis(folder: Path, port: int) -> subprocess.Popen:
    """A redis-server on `port` keeping its snapshot in `folder` (written on `shutdown save`)."""
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--dir", str(folder), "--appendonly", "no"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 10
    while subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).returncode:
        assert time.monotonic() < deadline, "private redis-server did not start"
        time.sleep(0.1)
    return process


def stop_redis(process: subprocess.Popen, port: int) -> None:
    """A clean stop that keeps the data: `SHUTDOWN SAVE` (a restart in the same folder loads it)."""
    subprocess.run(["redis-cli", "-p", str(port), "shutdown", "save"], capture_output=True)
    process.wait(30)


class Server(NamedTuple):
    url: str
    process: subprocess.Popen


@contextlib.contextmanager
def mlflow_server(settings: Settings, log: Path) -> Iterator[Server]:
    """The local stack's `mlflow server` (its command and env) over `settings`' store, on a free
    loopback port; yields its URL and process, and stops it afterwards."""
    from engageflow.app.stack.services import mlflow_service
    from serving.launch import free_port

    config = settings.mlflow.model_copy(update={"host": "127.0.0.1", "port": free_port()})
    service = mlflow_service(settings.model_copy(update={"mlflow": config}))
    with running(service.argv, service.health_url, log, env=service.env) as process:
        yield Server(service.url, process)


def group_commands(process: subprocess.Popen) -> list[str]:
    """The command line of every live process in `process`'s session (it and all it forked)."""
    import psutil

    session = os.getsid(process.pid)
    commands = []
    for proc in psutil.process_iter(["cmdline"]):
        with contextlib.suppress(psutil.Error, ProcessLookupError):
            if os.getsid(proc.pid) == session:
                commands.append(" ".join(proc.info["cmdline"] or []))
    return commands


def stop_group(process: subprocess.Popen) -> None:
    """Stop a server started in its own session, with every child it forked."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(20)
