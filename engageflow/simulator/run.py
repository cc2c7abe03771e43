"""Write simulated days into the landing zone, one atomically written partition per day."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from engageflow import lake
from engageflow.settings import Settings
from engageflow.simulator.policies import SlatePolicy
from engageflow.simulator.traffic import simulate_day

EVENTS_FILE = "simulator.parquet"


@dataclass(frozen=True)
class SimulatedDay:
    day: date
    events: Path
    items: Path
    truth: Path
    rows: int


def simulate(
    settings: Settings, days: int, policy: SlatePolicy, start: date | None = None
) -> Iterator[SimulatedDay]:
    """Simulate `days` consecutive days from `start` (default: the simulation's start)."""
    first = start or settings.simulation.start
    root = settings.root
    for offset in range(days):
        day = first + timedelta(days=offset)
        traffic = simulate_day(settings.simulation, settings.labels, settings.seed, day, policy)
        events = lake.write_atomic(
            traffic.events, lake.partition_dir(root, "landing", "events", day) / EVENTS_FILE
        )
        items = lake.write_partition(traffic.items, root, "landing", "items", day)
        truth = lake.write_partition(traffic.truth, root, "truth", "impressions", day)
        yield SimulatedDay(day, events, items, truth, traffic.events.num_rows)
