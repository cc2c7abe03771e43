"""The ingest quality gate on a simulated day of 1M impressions: the whole gate and GX alone.

python -m benchmarks.validation [--requests 100000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date

from benchmarks.report import load_average, write_results
from engageflow import schema
from engageflow.app.simulate import simulate
from engageflow.landing import landing_files, read_landed, typed
from engageflow.settings import Settings
from engageflow.simulator import POLICIES
from expectations.checks import event_parameters
from expectations.gate import validate
from expectations.ingest import ingest_catalog, ingest_events

DAY = date(2026, 1, 1)


def _timed(work) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=100_000, help="requests per day")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    started = load_average()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=tmp, simulation={"requests_per_day": args.requests})
        (day,) = simulate(settings, 1, POLICIES["random"], start=DAY)
        ingest_catalog(settings, DAY)
        files = landing_files(settings.root, "events", DAY)
        frame = typed(read_landed(files[0]).table, schema.EVENTS).to_pandas()
        parameters = event_parameters(settings, DAY)
        validate(frame, "events", parameters)  # warm up: GX imports and context
        gate = [_timed(lambda: ingest_events(settings, DAY)) for _ in range(args.repeats)]
        alone = [_timed(lambda: validate(frame, "events", parameters)) for _ in range(args.repeats)]
    impressions = args.requests * settings.simulation.slate_size
    rows = [
        [what, f"{impressions:,}", f"{day.rows:,}", f"{statistics.median(t):.2f}", f"{min(t):.2f}"]
        for what, t in (
            ("whole gate: `ingest_events` (read, convert, validate, CTR, write lake)", gate),
            ("GX `batch.validate` of the events suite alone", alone),
        )
    ]
    path = write_results(
        "validation",
        "Data-quality gate on one day of events",
        f"python -m benchmarks.validation --requests {args.requests} --repeats {args.repeats}",
        ["what", "impressions", "events", "median s", "best s"],
        rows,
        notes="The events suite has 18 expectations (schema, nulls, uniqueness, ranges, allowed "
        "values, the run's interval, referential integrity against the day's catalog, volume), "
        "plus the one-row daily_stats suite (CTR bounds). A clean day: nothing is quarantined. "
        "GX runs after the GX import and its ephemeral context are warm (one per process).",
        load_before=started,
    )
    print(path.read_text())


if __name__ == "__main__":
    main()
