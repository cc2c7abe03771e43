"""The Celery worker of the local stack (CeleryExecutor): `airflow celery worker`, healthy when it
answers a ping over the broker, which is what the scheduler's tasks travel through."""

from __future__ import annotations

from engageflow.settings import Settings

WORKER = "airflow-celery-worker"


def node_name(settings: Settings) -> str:
    """The worker's Celery node name, expanded as Celery expands `--hostname` (`%h`: host)."""
    from celery.utils.nodenames import default_nodename, host_format

    return host_format(default_nodename(settings.airflow.celery.worker_hostname))


def worker_answers(broker_url: str, node: str, timeout: float = 2.0) -> bool:
    """True when the Celery node `node` answers a ping through the broker within `timeout`."""
    from celery import Celery
    from kombu.exceptions import OperationalError

    app = Celery("engageflow-health", broker=broker_url, set_as_current=False)
    # One try: a health check that waits out the broker's reconnect schedule stalls `status`.
    app.conf.broker_connection_timeout = timeout
    app.conf.broker_transport_options = {"max_retries": 0}
    try:
        replies = app.control.ping(destination=[node], timeout=timeout)
    except (OperationalError, OSError):  # broker down: the worker is not reachable either
        return False
    finally:
        app.close()
    return any(node in reply for reply in replies)


def worker_argv(settings: Settings, airflow: str) -> list[str]:
    """`airflow celery worker` on the default queue with the configured concurrency.

    --skip-serve-logs: its log server binds 0.0.0.0 on a fixed port; the api-server reads task
    logs from the shared Airflow home instead, as for the scheduler."""
    celery = settings.airflow.celery
    return [
        airflow,
        *("celery", "worker", "--skip-serve-logs"),
        *("--concurrency", str(celery.worker_concurrency)),
        *("--celery-hostname", celery.worker_hostname),
    ]


def main() -> int:
    """Exit 0 when this host's worker answers (a container health check: same host name)."""
    from engageflow.settings import get_settings

    settings = get_settings()
    return 0 if worker_answers(settings.airflow.celery.broker_url, node_name(settings)) else 1


if __name__ == "__main__":
    raise SystemExit(main())
