"""Drift detection on the simulator with default monitoring settings: false alarms over 30
drift-free days, then how fast four kinds of drift are caught.

A simulated world (default size) served by the uniform random policy: warmed up until its
longest feature window is full, a champion trained on the newest week, then monitored day by
day exactly as the monitor_drift DAG does (`monitor_day`). After the drift-free days, each kind
of drift is played over the same next days in turn (the days are simulated again for each):

- topic appeal: one topic's appeal falls by `--shift` logits from the first day;
- new items: a flood of `--flood` extra items lands the day before (live from the first day);
- clickbait: as many clickbait-heavy items land the day before;
- broken feature: the item feature table's mean dwell arrives in milliseconds from the first
  day's features on (a unit change upstream).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from benchmarks.report import RESULTS_DIR, load_average, write_results
from engageflow import lake
from engageflow.aliases import promote
from engageflow.app.simulate import simulate
from engageflow.settings import Drift, Settings
from engageflow.simulator import POLICIES
from feature_repo.backfill import backfill
from monitoring.daily import monitor_day
from training.pipeline import run_all

BROKEN_TABLE, BROKEN_COLUMN, BROKEN_FACTOR = "item_engagement", "item_mean_dwell_7d", 1000.0


@dataclass(frozen=True)
class Kind:
    name: str
    drifts: list[dict[str, Any]]  # simulation drifts, days as offsets from the first drift day
    broken: bool = False


def kinds(shift: float, flood: int) -> list[Kind]:
    return [
        Kind("topic appeal", [{"day": 0, "kind": "topic_appeal", "topic": 0, "shift": shift}]),
        Kind("new items", [{"day": -1, "kind": "new_items", "items": flood}]),
        Kind(
            "clickbait",
            [
                {"day": -1, "kind": "new_items", "items": flood},
                {"day": -1, "kind": "clickbait", "share": 1.0},
            ],
        ),
        Kind("broken feature", [], broken=True),
    ]


def with_drifts(settings: Settings, drifts: list[dict[str, Any]], first: date) -> Settings:
    """`settings` with exactly `drifts`, their days counted from `first`."""
    dated = [Drift(**{**d, "day": first + timedelta(days=d["day"])}) for d in drifts]
    simulation = settings.simulation.model_copy(update={"drifts": dated})
    return settings.model_copy(update={"simulation": simulation})


def break_feature(settings: Settings, day: date) -> None:
    """Rewrite `day`'s item feature partition with the mean dwell in milliseconds."""
    table = lake.read_partition(settings.root, "features", BROKEN_TABLE, day)
    column = table.schema.get_field_index(BROKEN_COLUMN)
    scaled = pc.multiply(table.column(column), pa.scalar(BROKEN_FACTOR))
    broken = table.set_column(
        column, table.schema.field(column), scaled.cast(table.schema.field(column).type)
    )
    lake.write_partition(broken, settings.root, "features", BROKEN_TABLE, day)


def verdict_of(summary: dict[str, Any]) -> dict[str, Any]:
    """The verdict, with the columns beyond their bounds, furthest first."""
    columns = summary.get("distances", {}).get("columns", {})
    ratios = {c: v["distance"] / v["bound"] for c, v in columns.items()}
    beyond = sorted((c for c, r in ratios.items() if r >= 1), key=ratios.get, reverse=True)
    verdict = summary["verdict"]
    return {"drift": verdict["drift"], "reason": verdict["reason"], "beyond": beyond}


def run(
    settings: Settings, warmup: int, quiet_days: int, watch: int, shift: float, flood: int
) -> dict:
    """The drift-free days' verdicts, then each kind's verdicts on the days after the drift."""
    start = settings.simulation.start
    days = warmup + quiet_days
    started = time.perf_counter()
    backfill(settings, [d.day for d in simulate(settings, days, POLICIES["random"])])
    trained = run_all(settings, start + timedelta(days=warmup - 1))
    if not trained["passed"]:
        promote(settings, trained["version"], "drift benchmark", "benchmark")
    quiet = {}
    for offset in range(warmup, days):
        day = start + timedelta(days=offset)
        quiet[day.isoformat()] = verdict_of(monitor_day(settings, day))
    prepared = time.perf_counter() - started
    first = start + timedelta(days=days)
    caught = {}
    for kind in kinds(shift, flood):
        world = with_drifts(settings, kind.drifts, first)
        span = [first + timedelta(days=d) for d in range(-1, watch)]
        backfill(world, [d.day for d in simulate(world, len(span), POLICIES["random"], span[0])])
        if kind.broken:
            for day in span[:-1]:
                break_feature(world, day)  # the features the watched days are served with
        caught[kind.name] = {d.isoformat(): verdict_of(monitor_day(world, d)) for d in span[1:]}
    return {
        "quiet": quiet,
        "caught": caught,
        "seconds": {"prepare": prepared, "total": time.perf_counter() - started},
    }


def table_rows(results: dict) -> list[list[object]]:
    quiet = results["quiet"]
    alarms = [d for d, v in quiet.items() if v["drift"]]
    rows = [
        [
            "none (drift-free)",
            f"{len(quiet)} days",
            f"{len(alarms)} false alarms",
            ", ".join(alarms) or "-",
        ]
    ]
    for name, days in results["caught"].items():
        hit = [i for i, v in enumerate(days.values()) if v["drift"]]
        delay = f"day {hit[0]}" if hit else "missed"
        first = next((v for v in days.values() if v["drift"]), None)
        by = (", ".join(first["beyond"][:4]) or first["reason"][:80]) if first else "-"
        rows.append([name, f"{len(days)} days", delay, by])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warmup", type=int, default=31, help="days before monitoring starts")
    parser.add_argument("--quiet-days", type=int, default=30, help="drift-free days monitored")
    parser.add_argument("--watch", type=int, default=2, help="days watched after each drift")
    parser.add_argument("--shift", type=float, default=-1.5, help="topic appeal shift (logits)")
    parser.add_argument("--flood", type=int, default=2000, help="items in a flood")
    parser.add_argument("--data-dir", type=Path, help="keep the world here (default: a temp dir)")
    args = parser.parse_args()
    load_before = load_average()
    with tempfile.TemporaryDirectory() as tmp:
        # The world's size comes from settings (ENGAGEFLOW_SIMULATION__* to change it).
        settings = Settings(data_dir=args.data_dir or Path(tmp))
        results = run(settings, args.warmup, args.quiet_days, args.watch, args.shift, args.flood)
        world = settings.simulation
    RESULTS_DIR.joinpath("drift.json").write_text(json.dumps(results, indent=1))
    command = (
        f"python -m benchmarks.drift --warmup {args.warmup} --quiet-days {args.quiet_days} "
        f"--watch {args.watch} --shift {args.shift} --flood {args.flood}"
    )
    notes = (
        f"World: {world.users:,} users, {world.items:,} items (+{world.new_items_per_day} a day), "
        f"{world.requests_per_day:,} requests a day, uniform random policy; monitoring on default "
        "settings (bounds calibrated on the newest undrifted served days, "
        f"{Settings().monitoring.false_alarms_per_30_days:g} false alarm per 30 days). "
        "Delay: day 0 is the first day the drift reaches served traffic. Caught by: the columns "
        "beyond their bounds on the first flagged day (else the verdict's reason). Every verdict "
        f"is in docs/benchmarks/drift.json. {results['seconds']['total']:.0f} s in all."
    )
    write_results(
        "drift",
        "Drift detection: false alarms and detection delay on the simulator",
        command,
        ["drift", "watched", "result", "caught by"],
        table_rows(results),
        notes,
        load_before,
    )


if __name__ == "__main__":
    main()
