"""/rank under a steady load: errors, latency, and every served slate in the prediction log.

python -m benchmarks.rank_load [--rate 200] [--seconds 60] [--workers 2] [--candidates 100]
                               [--stack]

The world, the request bodies and the open-loop client are benchmarks/serving.py's; the service
runs with an API key (every request carries it) and 2 workers. After the load the service gets a
SIGTERM (its clean stop flushes the log) and the request ids of the 200 answers are compared with
the distinct request ids in lake/predictions. `--stack` starts the whole local stack on the world
(`engageflow up`: Airflow, MLflow, Evidently idle beside the ranker, which the stack starts) and
loads its ranker; `engageflow down` stops it all (SIGTERM) before the log is read; its table is
docs/benchmarks/rank_load_stack.md. Each row records the cores and the 1-minute load average
sampled during its load.
"""

from __future__ import annotations

import argparse
import json
import secrets
import signal
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
from pydantic import SecretStr

from benchmarks.report import LoadSampler, cores, load_average, write_results
from benchmarks.serving import build_world, rank_bodies
from engageflow.polling import poll
from engageflow.settings import Settings
from serving.auth import api_key, bearer_header
from serving.launch import ServiceProcess, free_port
from serving.load import Load, open_loop
from serving.prediction_log import read_logged


class Alone:
    """The ranker by itself (`bentoml serve`)."""

    def __init__(self, settings: Settings, root: Path) -> None:
        self.server = ServiceProcess(settings, root / "s.log")

    def start(self) -> tuple[str, dict]:
        self.server.start().wait_ready()
        return f"{self.server.url}/rank", self.server.headers

    def stop(self) -> int | None:
        return self.server.stop(signal.SIGTERM)


class Stack:
    """`engageflow up` on the world (free ports): Airflow, MLflow, the ranker and Evidently."""

    def __init__(self, settings: Settings, root: Path) -> None:
        changes = {
            # No time schedule: idle DAGs, not a simulate_traffic run asking this ranker too.
            "airflow": {"port": free_port(), "schedule": "none"},
            "mlflow": {"port": free_port()},
            "monitoring": {"ui_port": free_port()},
        }
        self.settings = settings.model_copy(
            update={
                name: getattr(settings, name).model_copy(update=values)
                for name, values in changes.items()
            }
        )

    def start(self) -> tuple[str, dict]:
        from engageflow.app.stack.control import up

        up(self.settings)  # healthy = /livez; a champion exists, so /readyz follows
        serving = self.settings.serving
        url = f"http://{serving.host}:{serving.port}"
        wait_ready(url)
        return f"{url}/rank", bearer_header(api_key(serving))

    def stop(self) -> int | None:
        from engageflow.app.stack.control import down

        down(self.settings)  # SIGTERM to every group: the ranker flushes its log
        return None  # `down` does not keep exit codes; served == logged says it flushed


def wait_ready(url: str, timeout: float = 120.0) -> None:
    import httpx

    poll(
        lambda: httpx.get(f"{url}/readyz", timeout=2).status_code == 200,
        timeout=timeout,
        every=0.5,
        transient=(httpx.HTTPError,),
    )


def served_ids(load: Load) -> list[str]:
    return [json.loads(r.body)["request_id"] for r in load.replies if r.status == 200]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="offered req/s")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--candidates", type=int, default=100)
    parser.add_argument(
        "--stack", action="store_true", help="beside the whole local stack (engageflow up)"
    )
    args = parser.parse_args()
    started = load_average()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory(prefix="engageflow-rank-load-") as tmp:
        root = Path(tmp)
        began = time.perf_counter()
        settings, users, items = build_world(root / "data")
        print(f"world ready in {time.perf_counter() - began:.0f} s", flush=True)
        key = SecretStr(secrets.token_hex(16))
        config = settings.serving.model_copy(
            update={"port": free_port(), "workers": args.workers, "api_key": key}
        )
        settings = settings.model_copy(update={"serving": config})
        server = (Stack if args.stack else Alone)(settings, root)
        url, headers = server.start()
        try:
            bodies = rank_bodies(users, items, int(args.rate * args.seconds), args.candidates, rng)
            warm = open_loop(url, bodies[: int(args.rate)], args.rate, headers)
            with LoadSampler() as busy:  # other work on the machine shapes these numbers
                load = open_loop(url, bodies, args.rate, headers)
        finally:
            code = server.stop()
        served = served_ids(warm) + served_ids(load)
        logged = read_logged(settings.root, ["request_id"])["request_id"]
    statuses = Counter(r.status for r in load.replies)
    p50, p95, p99 = np.percentile(load.latencies_ms, [50, 95, 99])
    missing = len(set(served) - set(logged))
    row = [
        "ranker + local stack" if args.stack else "ranker alone",
        f"{args.rate:g}",
        f"{args.seconds:g}",
        args.workers,
        len(load.replies),
        f"{load.achieved:.1f}",
        load.errors,
        f"{p50:.1f}",
        f"{p95:.1f}",
        f"{p99:.1f}",
        len(served),
        logged.nunique(),
        missing,
        cores(),
        busy.span,
    ]
    print(row, dict(statuses), f"server exit code {code}", flush=True)
    stack = (
        ", the idle local stack (Airflow's api-server, scheduler, dag-processor and triggerer, "
        "MLflow, the Evidently UI, the event collector)"
        if args.stack
        else ""
    )
    notes = f"""
Statuses of the measured load: {dict(sorted(statuses.items()))} (0 = no HTTP answer).
"served" counts the 200 answers of the measured load and of a {int(args.rate)}-request warm-up;
"logged" the distinct request ids in `lake/predictions` after the service's SIGTERM (exit code
{code}; none when the stack stopped it); "missing" the served ids not logged. "load avg
during": the 1-minute load average sampled every 2 s during the measured load ({cores()}.0 =
every core busy). Open-loop aiohttp client timing each request from its scheduled instant, with
the API key on every request; {args.candidates} candidates (k = 10); the world, bodies and
client are those of `benchmarks/serving.py`. Loopback; the client shares the {cores()} cores
with the service's workers{stack} and whatever else runs on this machine. An achieved rate below
the offered one means requests queued (the latencies count the queue), not that any failed.
"""
    path = write_results(
        "rank_load_stack" if args.stack else "rank_load",
        "Serving: /rank under a steady load, served == logged",
        "python -m benchmarks.rank_load" + (" --stack" if args.stack else ""),
        [
            "setup",
            "offered req/s",
            "seconds",
            "workers",
            "requests",
            "achieved req/s",
            "errors",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "served",
            "logged",
            "missing",
            "cores",
            "load avg during",
        ],
        [row],
        notes,
        load_before=started,
    )
    print(path.read_text())


if __name__ == "__main__":
    main()
