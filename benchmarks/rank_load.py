"""/rank under a steady load: errors, latency, and every served slate in the prediction log.

python -m benchmarks.rank_load [--rate 200] [--seconds 60] [--workers 2] [--candidates 100]

The world, the request bodies and the open-loop client are benchmarks/serving.py's; the service
runs with an API key (every request carries it) and 2 workers. After the load the service gets a
SIGTERM (its clean stop flushes the log) and the request ids of the 200 answers are compared with
the distinct request ids in lake/predictions.
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

from benchmarks.report import cores, load_average, write_results
from benchmarks.serving import build_world, rank_bodies
from serving.launch import ServiceProcess, free_port
from serving.load import Load, open_loop
from serving.prediction_log import read_logged


def served_ids(load: Load) -> list[str]:
    return [json.loads(r.body)["request_id"] for r in load.replies if r.status == 200]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="offered req/s")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--candidates", type=int, default=100)
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
        server = ServiceProcess(settings.model_copy(update={"serving": config}), root / "s.log")
        server.start().wait_ready()
        url = f"{server.url}/rank"
        busy = load_average()  # other work on the machine shapes these numbers
        try:
            bodies = rank_bodies(users, items, int(args.rate * args.seconds), args.candidates, rng)
            warm = open_loop(url, bodies[: int(args.rate)], args.rate, server.headers)
            load = open_loop(url, bodies, args.rate, server.headers)
        finally:
            busy = max(busy, load_average())
            code = server.stop(signal.SIGTERM)
        served = served_ids(warm) + served_ids(load)
        logged = read_logged(settings.root, ["request_id"])["request_id"]
    statuses = Counter(r.status for r in load.replies)
    p50, p95, p99 = np.percentile(load.latencies_ms, [50, 95, 99])
    missing = len(set(served) - set(logged))
    row = [
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
    ]
    print(row, dict(statuses), f"server exit code {code}", flush=True)
    notes = f"""
Statuses of the measured load: {dict(sorted(statuses.items()))} (0 = no HTTP answer).
"served" counts the 200 answers of the measured load and of a {int(args.rate)}-request warm-up;
"logged" the distinct request ids in `lake/predictions` after the service's SIGTERM (exit code
{code}); "missing" the served ids not logged. Open-loop aiohttp client timing each request from
its scheduled instant, with the API key on every request; {args.candidates} candidates (k = 10);
the world, bodies and client are those of `benchmarks/serving.py`. Loopback; the client shares
the {cores()} cores with the service's workers and whatever else runs on this machine: the
1-minute load average was up to {busy:.1f} during the run ({cores()}.0 = every core busy). An
achieved rate below the offered one means requests queued (the latencies count the queue), not
that any failed.
"""
    path = write_results(
        "rank_load",
        "Serving: /rank under a steady load, served == logged",
        "python -m benchmarks.rank_load",
        [
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
        ],
        [row],
        notes,
        load_before=started,
    )
    print(path.read_text())


if __name__ == "__main__":
    main()
