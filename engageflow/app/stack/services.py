"""What the local stack runs: one declarative entry per process, built from the settings."""

from __future__ import annotations

import sys
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

from engageflow.compat import MLFLOW_SERVER_ENV
from engageflow.settings import Settings, child_env

REPO_ROOT = Path(__file__).resolve().parents[3]
AIRFLOW_HEALTH = "/api/v2/monitor/health"
API_SERVER = "airflow-api-server"


@dataclass(frozen=True)
class Service:
    """A long-running process of the stack and how to tell that it is healthy."""

    name: str
    argv: list[str]
    env: dict[str, str] = field(repr=False)  # holds secrets: never printed
    url: str  # what a person opens
    health_url: str | None  # None: `probe` tells instead
    health_key: str | None = None  # a component in Airflow's health JSON that must be healthy
    port: tuple[str, int, str] | None = None  # (host, port, the env var that sets the port)
    prepare: Callable[[], object] | None = field(default=None, repr=False)
    probe: Callable[[], bool] | None = field(default=None, repr=False)  # health without HTTP
    after: tuple[str, ...] = ()  # services that must be healthy before this one starts


def stack_dir(settings: Settings) -> Path:
    return settings.root / "stack"


def log_path(settings: Settings, name: str) -> Path:
    return stack_dir(settings) / "logs" / f"{name}.log"


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def airflow_services(settings: Settings) -> list[Service]:
    """api-server, scheduler, dag-processor, triggerer: one Airflow (LocalExecutor, or the
    CeleryExecutor plus one Celery worker)."""
    from dags.support.auth import airflow_server_env

    config = settings.airflow
    env = {**child_env(settings), **airflow_server_env(settings)}
    url = f"http://{config.host}:{config.port}"
    health = url + AIRFLOW_HEALTH
    # --skip-serve-logs: the log servers bind 0.0.0.0 on fixed ports; the api-server reads task
    # logs from the shared Airflow home instead.
    commands = {
        API_SERVER: (
            ["api-server", "--host", config.host, "--port", str(config.port)],
            "metadatabase",
        ),
        "airflow-scheduler": (["scheduler", "--skip-serve-logs"], "scheduler"),
        "airflow-dag-processor": (["dag-processor"], "dag_processor"),
        "airflow-triggerer": (["triggerer", "--skip-serve-logs"], "triggerer"),
    }
    # What runs tasks waits for the api-server: a task started before its execution API answers
    # fails with "Connection refused" and waits out a retry (seen on a busy machine).
    runs_tasks = {"airflow-scheduler": (API_SERVER,)}
    components = [
        Service(
            name,
            [_bin("airflow"), *args],
            env,
            url,
            health,
            key,
            (config.host, config.port, "ENGAGEFLOW_AIRFLOW__PORT") if name == API_SERVER else None,
            after=runs_tasks.get(name, ()),
        )
        for name, (args, key) in commands.items()
    ]
    if config.executor == "CeleryExecutor":
        components.append(celery_worker_service(settings, env))
    return components


def celery_worker_service(settings: Settings, env: dict[str, str]) -> Service:
    """One `airflow celery worker`; it has no HTTP endpoint, so a ping over the broker tells."""
    from engageflow.app.stack.celery_worker import WORKER, node_name, worker_answers, worker_argv

    node, broker = node_name(settings), settings.airflow.celery.broker_url
    return Service(
        WORKER,
        worker_argv(settings, _bin("airflow")),
        env,
        f"celery node {node}",  # nothing to open; Flower is not started
        None,
        probe=lambda: worker_answers(broker, node),
        after=(API_SERVER,),
    )


def mlflow_service(settings: Settings) -> Service:
    """`mlflow server` (UI, tracking and registry API) on the store the tasks write to."""
    from engageflow.registry import artifact_root, tracking_uri

    config = settings.mlflow
    (settings.root / "mlflow").mkdir(parents=True, exist_ok=True)
    argv = [
        _bin("mlflow"),
        "server",
        *("--backend-store-uri", tracking_uri(settings)),
        *("--default-artifact-root", artifact_root(settings).as_uri()),
        *("--host", config.host, "--port", str(config.port)),
        *("--workers", "1"),  # two cores: one worker answers a person and a demo
    ]
    url = f"http://{config.host}:{config.port}"
    port = (config.host, config.port, "ENGAGEFLOW_MLFLOW__PORT")
    env = {**child_env(settings), **MLFLOW_SERVER_ENV}
    return Service("mlflow", argv, env, url, f"{url}/health", port=port)


def ranker_service(settings: Settings) -> Service:
    """The BentoML ranker; /livez, because /readyz stays 503 until a champion exists."""
    from serving.launch import serve_command, serve_env

    config = settings.serving
    url = f"http://{config.host}:{config.port}"
    port = (config.host, config.port, "ENGAGEFLOW_SERVING__PORT")
    return Service(
        "ranker", serve_command(settings), serve_env(settings), url, f"{url}/livez", port=port
    )


def collector_services(settings: Settings) -> list[Service]:
    """The event collector (POST /events) and, on the Redis log, the drainer that lands the
    stream's batches for the daily DAGs (it has no HTTP endpoint: its consumer group tells)."""
    from serving.launch import collector_command, collector_env

    config = settings.collector
    url = f"http://{config.host}:{config.port}"
    port = (config.host, config.port, "ENGAGEFLOW_COLLECTOR__PORT")
    env = collector_env(settings)
    # /readyz: answers once the worker has built its GX context and opened the log.
    collector = Service(
        "collector", collector_command(settings), env, url, f"{url}/readyz", port=port
    )
    if config.log != "redis":
        return [collector]
    drainer = Service(
        "event-drainer",
        [_bin("engageflow"), "drain-events"],
        child_env(settings),
        f"{config.redis_url.rpartition('@')[2]} stream {config.stream}",  # no password shown
        None,
        probe=lambda: _group_exists(config.redis_url, config.stream, config.group),
    )
    return [collector, drainer]


def _group_exists(url: str, stream: str, group: str) -> bool:
    import redis

    try:
        groups = redis.Redis.from_url(url).xinfo_groups(stream)
    except redis.RedisError:
        return False
    return any(g["name"].decode() == group for g in groups)


def evidently_service(settings: Settings) -> Service:
    """The Evidently UI over the monitoring workspace (its project is created first)."""
    from monitoring.ui import prepare, ui_command

    config = settings.monitoring
    url = f"http://{config.ui_host}:{config.ui_port}"
    return Service(
        "evidently-ui",
        ui_command(settings),
        child_env(settings),
        url,
        f"{url}/",
        port=(config.ui_host, config.ui_port, "ENGAGEFLOW_MONITORING__UI_PORT"),
        prepare=lambda: prepare(settings),
    )


def services(settings: Settings) -> list[Service]:
    """Every service, in start order (the slow-to-prepare Evidently UI last)."""
    return [
        *airflow_services(settings),
        mlflow_service(settings),
        ranker_service(settings),
        *collector_services(settings),
        evidently_service(settings),
    ]


def selected(settings: Settings, only: Collection[str] = ()) -> list[Service]:
    """The services named in `only` and those they wait for (all when empty); "airflow" names
    every Airflow component. An unknown name is a ValueError listing the known ones."""
    every = services(settings)
    if not only:
        return every
    known = {service.name for service in every} | {"airflow"}
    if unknown := sorted(set(only) - known):
        raise ValueError(f"no service {', '.join(unknown)}; choose from {', '.join(sorted(known))}")
    wanted = {
        s.name
        for s in every
        if s.name in only or ("airflow" in only and s.name.startswith("airflow"))
    }
    wanted |= {name for s in every if s.name in wanted for name in s.after}  # what they wait for
    return [service for service in every if service.name in wanted]
