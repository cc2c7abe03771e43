"""Simulator throughput at 1M impressions per day: events/s, including the Parquet writes.

python -m benchmarks.simulator [--requests 100000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date, timedelta

from benchmarks.report import load_average, write_results
from engageflow.app.simulate import simulate
from engageflow.settings import Settings
from engageflow.simulator import POLICIES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=100_000, help="requests per day")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    started = load_average()
    rows, seconds, events = [], [], 0
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=tmp, simulation={"requests_per_day": args.requests})
        impressions = args.requests * settings.simulation.slate_size
        for repeat in range(args.repeats):
            start = time.perf_counter()
            day = date(2026, 1, 1) + timedelta(days=repeat)
            (done,) = simulate(settings, 1, POLICIES["random"], start=day)
            seconds.append(time.perf_counter() - start)
            events = done.rows
            rows.append(
                [
                    repeat + 1,
                    f"{impressions:,}",
                    f"{events:,}",
                    f"{seconds[-1]:.2f}",
                    f"{events / seconds[-1]:,.0f}",
                ]
            )
    median = statistics.median(seconds)
    rows.append(
        ["median", f"{impressions:,}", f"{events:,}", f"{median:.2f}", f"{events / median:,.0f}"]
    )
    path = write_results(
        "simulator",
        "Simulator throughput (one day, written to Parquet)",
        f"python -m benchmarks.simulator --requests {args.requests} --repeats {args.repeats}",
        ["run", "impressions", "events", "seconds", "events/s"],
        rows,
        notes="Each run simulates one whole day (world build, slates from the uniform random "
        "policy, responses, event rows) and writes the events, catalog and truth partitions.",
        load_before=started,
    )
    print(path.read_text())


if __name__ == "__main__":
    main()
