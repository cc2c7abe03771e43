"""How to start the service: the `bentoml serve` command line and its environment.

One place for `engageflow serve`, the integration tests and the benchmark. Workers, threads and
BentoML's per-request middleware go through BENTOML_CONFIG_OVERRIDES, because BentoML reads them
when the class is decorated.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from pathlib import Path

from engageflow.compat import MLFLOW_FAIL_FAST_ENV
from engageflow.polling import poll
from engageflow.processes import usable_cores
from engageflow.settings import Settings, child_env
from serving.auth import api_key, bearer_header

REPO_ROOT = Path(__file__).resolve().parent.parent
SERVICE = "serving.service:Ranker"
COLLECTOR = "serving.collector:Collector"


def serve_command(settings: Settings) -> list[str]:
    """`bentoml serve serving.service:Ranker` on the settings' host and port."""
    return _bentoml_serve(SERVICE, settings.serving.host, settings.serving.port)


def collector_command(settings: Settings) -> list[str]:
    """`bentoml serve serving.collector:Collector` on the collector's host and port."""
    return _bentoml_serve(COLLECTOR, settings.collector.host, settings.collector.port)


def _bentoml_serve(service: str, host: str, port: int) -> list[str]:
    bentoml = Path(sys.executable).with_name("bentoml")
    serve = [str(bentoml), "serve", service, "--working-dir", str(REPO_ROOT)]
    return [*serve, "--host", host, "--port", str(port)]


def collector_env(settings: Settings, base: dict[str, str] | None = None) -> dict[str, str]:
    """The collector's environment: the settings, and the pseudonym key (it pseudonymizes at
    the edge, unlike the ranker, which only ever sees pseudonyms)."""
    env = child_env(settings, base)
    overrides = {"workers": settings.collector.workers, "logging": {"access": {"enabled": False}}}
    env["BENTOML_CONFIG_OVERRIDES"] = json.dumps({"services": {"Collector": overrides}})
    env.setdefault("BENTOML_DO_NOT_TRACK", "true")
    return env


def workers(settings: Settings) -> int:
    """settings.serving.workers, or one worker per core this process may run on."""
    return settings.serving.workers or usable_cores()


def bento_config(settings: Settings) -> dict:
    """BentoML's service config: the worker layout and what runs around every request."""
    config = settings.serving
    return {
        "workers": workers(settings),
        "threads": config.threads,
        "logging": {"access": {"enabled": config.access_log}},
        # BentoML always wraps requests in OpenTelemetry's middleware, and with no exporter
        # configured (sample rate 0) builds spans that are never recorded: skip it for /rank.
        "tracing": {"excluded_urls": ["/rank"]},
    }


def serve_env(settings: Settings, base: dict[str, str] | None = None) -> dict[str, str]:
    """`base` (default: this process's env) plus what the server processes need; the workers
    read settings themselves, so they get the resolved ones (`child_env`)."""
    env = child_env(settings, base)
    env.pop("ENGAGEFLOW_PSEUDONYM_KEY", None)  # callers send pseudonyms: the key stays out
    env["BENTOML_CONFIG_OVERRIDES"] = json.dumps({"services": {"Ranker": bento_config(settings)}})
    env.setdefault("BENTOML_DO_NOT_TRACK", "true")
    # The refresher polls the registry every reload interval anyway: no minutes of MLflow
    # backoff while an MLflow server is down (the loaded models keep serving meanwhile).
    for name, value in MLFLOW_FAIL_FAST_ENV.items():
        env.setdefault(name, value)
    return env


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServiceProcess:
    """`bentoml serve` in its own process group: start, wait for /readyz, stop the whole group.

    For tests and benchmarks; BentoML forks workers, so only a group signal stops them all.
    """

    def __init__(
        self,
        settings: Settings,
        log_path: Path,
        env: dict[str, str] | None = None,
        collector: bool = False,
    ):
        """The ranker, or with `collector` the event collector, as `settings` configure it."""
        self.settings, self.log_path = settings, log_path
        self.headers = bearer_header(api_key(settings.serving))  # what a client must send
        if collector:
            config = settings.collector
            self._command, self._env = collector_command(settings), collector_env(settings, env)
        else:
            config = settings.serving
            self._command, self._env = serve_command(settings), serve_env(settings, env)
        self.url = f"http://{config.host}:{config.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> ServiceProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("w") as out:
            self.process = subprocess.Popen(
                self._command,
                env=self._env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def wait_ready(self, timeout: float = 120.0, probe: str = "/readyz") -> ServiceProcess:
        """Block until `probe` answers 200 (/livez before a champion exists, since /readyz
        says 503 until then); raise with the server's log if it dies or hangs."""
        import httpx

        def ready() -> bool:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"the service exited early:\n{self.log_tail()}")
            return httpx.get(f"{self.url}{probe}", timeout=2).status_code == 200

        poll(
            ready,
            timeout=timeout,
            every=0.25,
            transient=(httpx.HTTPError,),
            on_timeout=lambda _: TimeoutError(
                f"the service was not ready in {timeout:.0f} s:\n{self.log_tail()}"
            ),
        )
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int | None:
        """Signal the group (SIGTERM/SIGINT: a clean shutdown), wait, then kill any leftovers
        (BentoML's workers run in sessions of their own: engageflow/processes.py)."""
        import psutil

        from engageflow.processes import stop_group

        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        code = stop_group(psutil.Process(self.process.pid), self.process.pid, sig, timeout)
        self.process.wait(timeout)  # already reaped by stop_group; keeps Popen consistent
        return code

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text() if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])
