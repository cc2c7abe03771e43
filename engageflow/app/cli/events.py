"""`engageflow collect` (the event collector, POST /events) and `engageflow drain-events` (the
Redis stream into the landing zone, for the daily DAGs)."""

from __future__ import annotations

import socket
from typing import Annotated

import typer

from engageflow.app.cli.common import console
from engageflow.settings import get_settings

app = typer.Typer()


@app.command()
def collect(
    host: Annotated[str | None, typer.Option(help="default: settings.collector.host")] = None,
    port: Annotated[int | None, typer.Option(help="default: settings.collector.port")] = None,
) -> None:
    """Start the event collector (`bentoml serve serving.collector:Collector`); Ctrl+C stops it."""
    import subprocess

    from serving.launch import collector_command, collector_env

    chosen = {"host": host, "port": port}
    settings = get_settings(collector={k: v for k, v in chosen.items() if v is not None})
    config = settings.collector
    where = f"the {config.log} log" + (f" ({config.stream})" if config.log == "redis" else "")
    console.print(f"collecting on http://{config.host}:{config.port}/events into {where}")
    command = collector_command(settings)
    raise typer.Exit(subprocess.run(command, env=collector_env(settings), check=False).returncode)


@app.command("drain-events")
def drain_events(
    once: Annotated[bool, typer.Option(help="land what is there, then stop")] = False,
    batch: Annotated[int, typer.Option(min=1, help="stream entries per read")] = 100,
) -> None:
    """Land the Redis stream's batches in landing/events/date=D/ (collector.log = "redis");
    an entry is acknowledged only once its files are in place."""
    from engageflow.eventlog.drain import drain_once
    from engageflow.eventlog.landing import LandingLog
    from engageflow.eventlog.redis_streams import RedisReader

    settings = get_settings()
    config = settings.collector
    if config.log != "redis":
        console.print('collector.log is "landing": the collector lands files itself')
        raise typer.Exit(0)
    reader = RedisReader.from_settings(config, config.group, socket.gethostname())
    landing = LandingLog(settings.root)
    while True:
        landed = drain_once(reader, landing, batch, block_ms=0 if once else 1000)
        if landed:
            console.print(f"landed {landed} events")
        elif once:
            return
