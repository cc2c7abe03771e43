"""Web servers for browser tests: a command in its own process group, up until its health URL
answers, then stopped as a group (uvicorn and gunicorn children die with it)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def running(
    command: list[str], health_url: str, log: Path, timeout: float = 120.0
) -> Iterator[subprocess.Popen]:
    """Start `command`, wait until `health_url` answers 200, yield; stop the group afterwards."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        server = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait(server, health_url, log, timeout)
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)


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
