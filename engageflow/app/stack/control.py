"""`engageflow up | down | status`: start the services, wait for health, stop what was started."""

from __future__ import annotations

import shlex
import signal
import socket
import subprocess
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import psutil

from engageflow.app.stack.record import Record, load, record_file, save
from engageflow.app.stack.services import REPO_ROOT, Service, log_path, selected, services
from engageflow.polling import poll
from engageflow.processes import stop_group
from engageflow.settings import Settings


class StackError(RuntimeError):
    """A service did not come up; the message holds the end of its log."""


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    url: str
    running: bool
    healthy: bool
    pid: int | None


def log_tail(path: str, lines: int = 30) -> str:
    try:
        with open(path, errors="replace") as text:
            return "".join(text.readlines()[-lines:])
    except OSError:
        return "(no log)"


def _port_busy(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _healthy(client: httpx.Client, service: Service) -> bool:
    if service.probe is not None:
        return service.probe()
    try:
        answer = client.get(service.health_url)
    except httpx.HTTPError:
        return False
    if answer.status_code != 200:
        return False
    if service.health_key is None:
        return True
    return (answer.json().get(service.health_key) or {}).get("status") == "healthy"


def _start(settings: Settings, service: Service) -> Record:
    """Start `service` in a session of its own (its pid is its group id), appending to its log."""
    log = log_path(settings, service.name)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as out:
        out.write(f"--- {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC: {shlex.join(service.argv)}\n")
        out.flush()
        process = subprocess.Popen(
            service.argv,
            env=service.env,
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    started = psutil.Process(process.pid).create_time()
    return Record(
        service.name, process.pid, process.pid, started, service.argv, service.url, str(log)
    )


def _migrate(settings: Settings, airflow: Service) -> None:
    """`airflow db migrate` before any Airflow component starts (idempotent)."""
    log = log_path(settings, "airflow-db-migrate")
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as out:
        argv = [airflow.argv[0], "db", "migrate"]
        done = subprocess.run(argv, env=airflow.env, stdout=out, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        raise StackError(f"`airflow db migrate` failed; the end of {log}:\n{log_tail(str(log))}")


def _wait_healthy(
    wanted: list[Service], records: dict[str, Record], started: set[str], timeout: float
) -> None:
    pending = {service.name: service for service in wanted}

    def all_healthy(client: httpx.Client) -> bool:
        for name, service in list(pending.items()):
            record = records[name]
            if name in started and record.leader() is None:
                raise StackError(
                    f"{name} exited during start-up; the end of {record.log}:\n"
                    + log_tail(record.log)
                )
            if _healthy(client, service):
                del pending[name]
        return not pending

    def not_healthy(_: object) -> StackError:
        tails = "\n".join(
            f"{name} ({records[name].log}):\n{log_tail(records[name].log)}" for name in pending
        )
        return StackError(f"not healthy after {timeout:.0f} s: {', '.join(pending)}\n{tails}")

    with httpx.Client(timeout=3, trust_env=False) as client:
        poll(lambda: all_healthy(client), timeout=timeout, every=1.0, on_timeout=not_healthy)


def up(
    settings: Settings, timeout: float = 300.0, only: Collection[str] = ()
) -> list[ServiceStatus]:
    """Start every service (or those named in `only`, see `selected`) that is not running, wait
    until they are healthy; on failure stop what this call started and raise with the failing
    service's log."""
    records = {name: r for name, r in load(settings).items() if r.leader() is not None}
    try:
        wanted = selected(settings, only)
    except ValueError as err:
        raise StackError(str(err)) from err
    todo = [service for service in wanted if service.name not in records]
    for service in todo:
        if service.port and _port_busy(*service.port[:2]):
            host, port, var = service.port
            raise StackError(
                f"{service.name}: {host}:{port} is in use by a process this stack did not start;"
                f" stop it or choose another port with {var}"
            )
    airflow = [service for service in todo if service.name.startswith("airflow")]
    if airflow:
        _migrate(settings, airflow[0])
    started: set[str] = set()
    by_name = {service.name: service for service in wanted}
    try:
        # Services that wait for others start last, once those answer.
        for service in sorted(todo, key=lambda service: bool(service.after)):
            if service.after:
                needed = [by_name[name] for name in service.after]
                _wait_healthy(needed, records, started, timeout)
            if service.prepare is not None:
                service.prepare()
            records[service.name] = _start(settings, service)
            started.add(service.name)
            save(settings, records)  # recorded at once: `down` works even if we die here
        _wait_healthy(wanted, records, started, timeout)
    except BaseException:
        _stop([records.pop(name) for name in started])
        save(settings, records)
        raise
    return status(settings)


def _stop_one(record: Record, timeout: float) -> None:
    leader = record.leader()
    if leader is None and psutil.pid_exists(record.pgid):
        # The pid is someone else's now, so the group id may be theirs too: leave it alone.
        return
    stop_group(leader, record.pgid, signal.SIGTERM, timeout)


def _stop(records: list[Record], timeout: float = 30.0) -> None:
    with ThreadPoolExecutor(max(1, len(records))) as pool:
        list(pool.map(lambda record: _stop_one(record, timeout), records))


def down(settings: Settings, timeout: float = 30.0) -> list[str]:
    """Stop exactly the process groups `up` recorded (and their children); their names."""
    records = load(settings)
    _stop(list(records.values()), timeout)
    record_file(settings).unlink(missing_ok=True)
    return list(records)


def status(settings: Settings) -> list[ServiceStatus]:
    """Each service: running (the recorded process), healthy (its health URL), URL."""
    records = load(settings)
    answer = []
    # One look, not a poll: a busy machine may take seconds to answer a health request.
    with httpx.Client(timeout=10, trust_env=False) as client:
        for service in services(settings):
            record = records.get(service.name)
            running = record is not None and record.leader() is not None
            healthy = running and _healthy(client, service)
            pid = record.pid if running else None
            answer.append(ServiceStatus(service.name, service.url, running, healthy, pid))
    return answer
