"""Write simulated days into the landing zone, one atomically written partition per day."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from engageflow import lake
from engageflow.errors import DataError
from engageflow.settings import Settings
from engageflow.simulator.policies import POLICIES, SlatePolicy
from engageflow.simulator.traffic import simulate_day

EVENTS_FILE = "simulator.parquet"
SERVICE = "service"  # the policy name of the running ranking service (settings.serving)
# Ground truth of the long-term laws (simulation.retention), never landed with the events.
STATE = "retention"  # the users' state after each day, read back for the next
SESSIONS = "sessions"  # each session's value and expected survey score


class UnknownPolicy(DataError, ValueError):
    """A policy name that is neither the service, a URL nor a simulator policy: no retry helps."""


@dataclass(frozen=True)
class SimulatedDay:
    day: date
    events: Path
    items: Path
    truth: Path
    rows: int


def service_url(settings: Settings) -> str:
    """Where the ranking service listens (settings.serving host and port)."""
    return f"http://{settings.serving.host}:{settings.serving.port}"


def slate_policy(settings: Settings, name: str) -> SlatePolicy:
    """A policy by name: "service" (the running ranking service), a service URL, or one of
    the simulator's own (e.g. "random"). A service that does not answer fails here, first."""
    if name == SERVICE or name.startswith(("http://", "https://")):
        from serving.auth import api_key
        from serving.http_policy import HttpPolicy, check_service

        url = service_url(settings) if name == SERVICE else name
        check_service(url)
        return HttpPolicy(url, api_key=api_key(settings.serving))
    if name in POLICIES:
        return POLICIES[name]
    raise UnknownPolicy(
        f"unknown policy {name!r}; choose {SERVICE!r} (the service at "
        f"{service_url(settings)}), a service URL, or one of {sorted(POLICIES)}"
    )


def land_day(settings: Settings, day: date, policy: SlatePolicy) -> SimulatedDay:
    """Simulate `day` and write its landing partitions, each atomically: a rerun replaces."""
    root = settings.root
    config = settings.simulation
    # With the long-term laws on, a day starts from the state its day before left in truth/.
    state = None
    if config.retention.enabled and day > config.start:
        state = lake.read_partition(root, "truth", STATE, day - timedelta(days=1))
    traffic = simulate_day(config, settings.labels, settings.seed, day, policy, state)
    items = lake.write_partition(traffic.items, root, "landing", "items", day)
    lake.write_partition(traffic.users, root, "landing", "users", day)
    truth = lake.write_partition(traffic.truth, root, "truth", "impressions", day)
    if traffic.state is not None and traffic.sessions is not None:
        lake.write_partition(traffic.sessions, root, "truth", SESSIONS, day)
        lake.write_partition(traffic.state, root, "truth", STATE, day)
    events = lake.write_atomic(
        traffic.events, lake.partition_dir(root, "landing", "events", day) / EVENTS_FILE
    )
    return SimulatedDay(day, events, items, truth, traffic.events.num_rows)


def simulate(
    settings: Settings, days: int, policy: SlatePolicy, start: date | None = None
) -> Iterator[SimulatedDay]:
    """Simulate `days` consecutive days from `start` (default: the simulation's start)."""
    first = start or settings.simulation.start
    for offset in range(days):
        yield land_day(settings, first + timedelta(days=offset), policy)


def simulate_served_day(settings: Settings, day: date, policy: str = SERVICE) -> SimulatedDay:
    """One day of the closed loop: slates from the running service (or a named policy)."""
    return land_day(settings, day, slate_policy(settings, policy))
